"""Ember's Python runtime: a Lambda Runtime API client that runs inside the execution environment.

Standalone on purpose (stdlib only, no `ember` import): it is what a cold start pays for, and it
must behave as AWS's awslambdaric does, which the server treats the same way. The loop is AWS's:
init (import the handler once); on failure post /runtime/init/error and exit 1; then forever
next → handle → post response or error.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import site
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"


def _sibling(name: str) -> Any:
    """A module beside this file, loaded by path: an exec'd runtime runs with -P (this folder is not on
    sys.path, where it could shadow the function's modules), and no `ember` package is imported."""
    location = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_ember_runtime_{name}", location)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


marshalling = _sibling("marshalling")


class RuntimeApiRefused(Exception):
    """The Runtime API refused `next`: this runtime ends, as AWS's clients do."""


class FaultException(Exception):
    """An error of the runtime's own making, reported with Lambda's `Runtime.*` type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class RuntimeClient:
    """One keep-alive HTTP/1.1 connection to the Runtime API.

    Hand-rolled on a socket: http.client parses headers with the email package, which cost more
    CPU per invocation than everything else this runtime does for a small handler.
    """

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._address = (host.strip("[]"), int(port))
        self._host = address
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def next(self) -> tuple[bytes, dict[str, str]]:
        """The next event; a refusal (the environment is going away, or the move is not allowed)
        ends the runtime rather than run the handler on an error body."""
        status, body, headers = self._call("GET", f"{API_PREFIX}/invocation/next")
        if status != 200:
            raise RuntimeApiRefused(f"Runtime API next answered {status}: {body.decode(errors='replace')}")
        return body, headers

    def post_response(self, request_id: str, body: bytes, content_type: str = "application/json") -> None:
        self._post(f"{API_PREFIX}/invocation/{request_id}/response", body, {"Content-Type": content_type})

    def post_error(self, request_id: str, error: bytes, error_type: str) -> None:
        self._post(f"{API_PREFIX}/invocation/{request_id}/error", error, {ERROR_TYPE_HEADER: error_type})

    def post_init_error(self, error: bytes, error_type: str) -> None:
        self._post(f"{API_PREFIX}/init/error", error, {ERROR_TYPE_HEADER: error_type})

    def _post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        """A refused post (413 for a response too large) is said on stderr; the next event follows."""
        status, answer, _ = self._call("POST", path, body, headers)
        if status != 202:
            print(f"Runtime API refused {path.rsplit('/', 1)[-1]}: {status} {answer.decode(errors='replace')}",
                  file=sys.stderr)

    def _call(self, method: str, path: str, body: bytes = b"",
              headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        if self._sock is None:
            # A numeric address connects without getaddrinfo, whose first call (resolver and NSS
            # set-up) would cost a cold start ~3 ms.
            family = socket.AF_INET6 if ":" in self._address[0] else socket.AF_INET
            self._sock = socket.socket(family, socket.SOCK_STREAM)
            self._sock.connect(self._address)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status, response_headers = self._read_head()
        return status, self._read_body(response_headers), response_headers

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self._buffer:
            self._recv()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split(" ", 2)[1]), headers

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        return self._take(int(headers.get("content-length", "0")))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self._take_line().split(";")[0], 16)
            if size == 0:
                while self._take_line():  # trailers, then the empty line
                    pass
                return b"".join(chunks)
            chunks.append(self._take(size))
            self._take_line()

    def _take_line(self) -> str:
        while b"\r\n" not in self._buffer:
            self._recv()
        line, _, rest = self._buffer.partition(b"\r\n")
        self._buffer = bytearray(rest)
        return line.decode("latin-1")

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._recv()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _recv(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self._buffer += chunk


@dataclass
class CognitoIdentity:
    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


@dataclass
class Client:
    installation_id: str | None = None
    app_title: str | None = None
    app_version_name: str | None = None
    app_version_code: str | None = None
    app_package_name: str | None = None


@dataclass
class ClientContext:
    client: Client | None
    custom: dict[str, Any] | None
    env: dict[str, Any] | None


class LambdaContext:
    """The `context` argument, with every attribute AWS's Python runtime gives it."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id", "")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        self.identity = _cognito_identity(headers.get("lambda-runtime-cognito-identity"))
        self.client_context = _client_context(headers.get("lambda-runtime-client-context"))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)
        sys.stdout.flush()


def _cognito_identity(raw: str | None) -> CognitoIdentity:
    data = json.loads(raw) if raw else {}
    return CognitoIdentity(data.get("cognitoIdentityId"), data.get("cognitoIdentityPoolId"))


def _client_context(raw: str | None) -> ClientContext | None:
    if not raw:
        return None
    data = json.loads(raw)
    client = data.get("client")
    return ClientContext(Client(**client) if isinstance(client, dict) else None, data.get("custom"),
                         data.get("env"))


def make_error(message: str, error_type: str, trace: list[str], request_id: str | None) -> dict[str, Any]:
    """The one error payload shape: errorMessage, errorType, requestId, stackTrace."""
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id or "", "stackTrace": trace}


def user_trace(tb: Any) -> list[str]:
    """The traceback without this bootstrap's own frames, formatted as Lambda does."""
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != __file__]
    return traceback.format_list(frames)


def log_error(error: dict[str, Any]) -> None:
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(entry.rstrip("\n") for entry in error["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import `module.function` (a `/` in the module path is a package separator), once."""
    module_path, _, function_name = handler.rpartition(".")
    if not module_path or not function_name:
        raise FaultException(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': not enough values to unpack "
                             "(expected 2, got 1)")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FaultException(IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise FaultException(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}",
                             user_trace(exc.__traceback__)) from exc
    function = getattr(module, function_name, None)
    if function is None:
        raise FaultException(HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the request in flight, as AWS's runtime does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def setup_logging() -> RequestIdFilter:
    stamp = RequestIdFilter()
    handler = logging.StreamHandler(sys.stdout)
    handler.terminator = ""
    formatter = logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(stamp)
    logging.getLogger().addHandler(handler)
    return stamp


def handle(client: RuntimeClient, handler: Callable[[Any, Any], Any], body: bytes,
           headers: dict[str, str], marshaller: Any) -> None:
    """Run one request and post its result or its error."""
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
    try:
        try:
            event = json.loads(body) if body else {}
        except ValueError as exc:
            raise FaultException(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from exc
        result = handler(event, LambdaContext(headers))
        try:
            payload, content_type = marshaller.response(result)
        except marshalling.MarshalError as exc:
            raise FaultException(MARSHAL_ERROR, str(exc)) from exc
    except FaultException as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:  # the function's own exception: reported, never fatal
        error = make_error(str(exc), type(exc).__name__, user_trace(exc.__traceback__), request_id)
    else:
        client.post_response(request_id, payload, content_type)
        return
    log_error(error)
    client.post_error(request_id, marshaller.dumps(error).encode(errors="backslashreplace"), error["errorType"])


def warn_if_newer_than_this_python(execution_env: str) -> None:
    """A runtime newer than the interpreter runs on it, and says so, as the Node runtime does."""
    wanted = execution_env.removeprefix("AWS_Lambda_python3.")
    if wanted.isdigit() and int(wanted) > sys.version_info.minor:
        print(f"python3.{wanted} runs on this machine's Python {sys.version.split()[0]}", file=sys.stderr,
              flush=True)


def set_search_path(task_root: str) -> None:
    """AWS's runtime's order: the function's code, then its layers' site-packages and python folders, ahead of
    the runtime's own packages, each a site directory (its .pth files run); a PYTHONPATH of the function's own
    leaves the layers out, as on AWS. Layers are at /opt (elsewhere only in a sandbox without a mount namespace)."""
    opt = os.environ.pop("_EMBER_OPT_DIR", "/opt")
    paths = [task_root]
    if os.environ.get("PYTHONPATH", "") in ("", os.environ.get("LAMBDA_RUNTIME_DIR")):
        wanted = os.environ.get("AWS_EXECUTION_ENV", "").removeprefix("AWS_Lambda_python")  # the function's 3.x
        version = wanted if wanted.startswith("3.") else f"{sys.version_info.major}.{sys.version_info.minor}"
        paths += [f"{opt}/python/lib/python{version}/site-packages", f"{opt}/python"]
    sys.path[0:0] = paths
    for path in paths:
        if os.path.isdir(path):  # site would append a missing one to sys.path again
            site.addsitedir(path)  # already on sys.path, so only its .pth files are read


def main() -> None:
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    set_search_path(task_root)
    stamp = setup_logging()
    marshaller = marshalling.Marshaller(os.environ.get("AWS_EXECUTION_ENV", ""))
    warn_if_newer_than_this_python(os.environ.get("AWS_EXECUTION_ENV", ""))
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except FaultException as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, "")
    except Exception as exc:  # module-level code raised: Lambda reports it as the init error
        error = make_error(str(exc), type(exc).__name__, user_trace(exc.__traceback__), "")
    else:
        while True:
            try:
                body, headers = client.next()
            except RuntimeApiRefused as refused:
                print(refused, file=sys.stderr)
                sys.exit(1)
            stamp.request_id = headers.get("lambda-runtime-aws-request-id", "")
            handle(client, handler, body, headers, marshaller)
    log_error(error)
    client.post_init_error(marshaller.dumps(error).encode(errors="backslashreplace"), error["errorType"])
    sys.exit(1)


if __name__ == "__main__":
    main()
