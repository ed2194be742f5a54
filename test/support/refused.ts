/**
 * A loopback origin whose connections are always refused. Port 2 lies below the OS's ephemeral
 * range, so no test server (they all listen on port 0) can be given it, and nothing here listens
 * there. A port freed by closing a server is no such thing: with two test files running at once,
 * the OS may hand it to the other file's next server.
 */
export const refusedOrigin = "http://127.0.0.1:2";
