package io.vgfs.launcher;
public class Main { public static void main(String[] a) {} }
