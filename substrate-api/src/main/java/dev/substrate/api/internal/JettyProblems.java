package dev.substrate.api.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The answers Jetty gives by itself, before a request reaches a route (a URI it cannot parse, headers too
 * large, a request that is not HTTP), as {@code application/problem+json} like every other error of the API,
 * in place of Jetty's HTML page.
 */
public final class JettyProblems extends ErrorHandler {

    @Override
    protected void generateResponse(
            Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        // An HTTP version Jetty does not speak (HTTP/0.9) is the client's mistake: 400, not a 5xx.
        int status = code == HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505 ? HttpStatus.BAD_REQUEST_400 : code;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problem.MEDIA_TYPE);
        response.write(true, body(status, message, request.getHttpURI().getPath()), callback);
    }

    private static ByteBuffer body(int status, String message, String path) {
        Problem problem = Problem.ofStatus(status, HttpStatus.getMessage(status), message);
        return ByteBuffer.wrap(
                problem.toJson(path == null ? "" : path).toString().getBytes(StandardCharsets.UTF_8));
    }
}
