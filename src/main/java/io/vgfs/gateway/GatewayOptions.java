package io.vgfs.gateway;

import io.vgfs.client.VgfsClientOptions;

/**
 * What a gateway needs to run.
 *
 * @param host           the interface the HTTP server listens on
 * @param port           the HTTP port (0: any free port)
 * @param smallFileLimit largest file the event-bus API reads or writes whole
 * @param client         options of the client the gateway uses
 * @param authTokens     bearer tokens the HTTP API accepts; empty: no authentication
 */
public record GatewayOptions(String host, int port, long smallFileLimit, VgfsClientOptions client,
                             java.util.List<String> authTokens) {
}
