"""The ``shixin`` command: serve the portal, import batches, report compliance, maintain.

Commands import what they need when they run, so ``shixin --help`` stays fast and this
module (the top of the import graph) is the only place that reaches into every package.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from core.china_time import CST
from core.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from casework.routing import Routing
    from core.db import Store
    from core.progress import Progress
    from search_index.ingest import IngestReport, LineRejection, LineWarning
    from search_index.service import ListService

EXIT_OK, EXIT_REJECTS, EXIT_ERROR = 0, 1, 2
# Larger JSON Lines files are parsed in a second process, and indexed in a third while
# the import writes the store (search_index.parallel, search_index.follow).
PARALLEL_BYTES = 8 * 1024 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return EXIT_ERROR


# Loggers are named by module (core.settings, ...) or "shixin.<part>" (mail, bot).
OUR_LOGGERS = ("core", "search_index", "casework", "portal", "bot", "shixin")


def _configure_logging(verbose: int) -> None:
    """Warnings only by default: libraries' progress notes (alembic prints a dozen INFO
    lines on every start) bury the one line a command prints. The project's own notices
    (a key file generated) stay visible; ``-v`` shows INFO, ``-vv`` DEBUG."""
    if logging.getLogger().handlers:  # configured by whoever called main() (a test runner)
        return
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for package in OUR_LOGGERS:
        logging.getLogger(package).setLevel(min(level, logging.INFO))


def _add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="more log output: -v for INFO, -vv for DEBUG",
    )


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on standard error (a bar on a terminal, else a line every 5 s)",
    )


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: takes ``-v`` after the command name too (``shixin migrate -v``).
    Its default is left out so it does not undo a ``-v`` given before the command."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _add_verbose(self, argparse.SUPPRESS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shixin", description="失信被执行人名单门户 / shixin portal"
    )
    _add_verbose(parser, 0)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_CommandParser)

    p = sub.add_parser("serve", help="start the web portal (Starlette + uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--check-port",
        action="store_true",
        help="only check that HOST:PORT is free (exit 2 if not), then stop",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--no-access-log", action="store_true", help="do not log every request")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("import", help="import a JSON Lines, CSV or XLSX batch from a court")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--format",
        choices=("auto", "jsonl", "csv", "xlsx"),
        default="auto",
        help="auto: by extension, else by content (a zip is XLSX, '{' JSON Lines, else CSV)",
    )
    p.add_argument("--source", help="who sent the batch (default: cli:<file name>)")
    p.add_argument("--rejects", type=Path, help="rejects file (default: FILE.rejects.jsonl)")
    p.add_argument("--warnings", type=Path, help="warnings file (default: FILE.warnings.jsonl)")
    _add_quiet(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("demo-data", help="write a realistic synthetic ingest file")
    p.add_argument("--count", type=int, default=5000, help="number of entries")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--out", type=Path, default=None, help="output file (default DATA_DIR/demo.jsonl)"
    )
    p.add_argument(
        "--plain",
        action="store_true",
        help="our own conventions only, not the national platform's real ones",
    )
    _add_quiet(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "demo-cases", help="demo unit accounts and tickets in every state (after demo-data)"
    )
    p.add_argument("--password", help="the demo units' password (needed outside a demo store)")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo_cases)

    p = sub.add_parser("compliance", help="removal latency against the legal deadline")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_compliance)

    p = sub.add_parser("export", help="write the public list as CSV, XLSX or JSON Lines")
    p.add_argument("--format", choices=("csv", "xlsx", "jsonl"), default="csv")
    p.add_argument("--keys", choices=("zh", "en"), default="zh", help="column headers")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    for name in ("region", "court", "partyType", "publishedFrom", "publishedTo"):
        p.add_argument(f"--{name}", dest=name, default="", metavar="TEXT")
    _add_quiet(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("snapshot", help="write today's full snapshot (JSON Lines + .sha256)")
    p.add_argument("--dir", type=Path, help="where to write (default: DATA_DIR/snapshots)")
    p.set_defaults(func=cmd_snapshot)

    for name, helptext, func in (
        ("sync", "bring the index up to date with the store", cmd_sync),
        ("expire", "remove entries whose listing period has ended", cmd_expire),
    ):
        sub.add_parser(name, help=helptext).set_defaults(func=func)
    p = sub.add_parser("reconcile", help="compare store and index and repair any drift")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_quiet(p)
    p.set_defaults(func=cmd_reconcile)
    p = sub.add_parser("replicas", help="the index replicas (one per host): state and lag")
    p.add_argument("--forget", metavar="NAME", help="forget a silent replica gone for good")
    p.set_defaults(func=cmd_replicas)
    p = sub.add_parser("reindex", help="rebuild the index from the store")
    _add_quiet(p)
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("token", help="manage ingest tokens (one per court unit)")
    tsub = p.add_subparsers(title="token commands", metavar="ACTION")
    t = tsub.add_parser("add", help="create a token; it is printed once")
    t.add_argument("--unit", required=True, help="the unit the token belongs to")
    scope = t.add_mutually_exclusive_group(required=True)
    scope.add_argument("--court", help="the only court whose entries this token may send")
    scope.add_argument(
        "--all-courts", action="store_true", help="a platform sending for every court"
    )
    t.set_defaults(func=cmd_token_add)
    tsub.add_parser("list", help="list tokens").set_defaults(func=cmd_token_list)
    t = tsub.add_parser("revoke", help="revoke a token by its number")
    t.add_argument("id", type=int)
    t.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("unit", help="manage complaint-handling units and their accounts")
    usub = p.add_subparsers(title="unit commands", metavar="ACTION")
    u = usub.add_parser("add", help="create a unit and its one account; password printed once")
    u.add_argument("code", help="unit code from the routing file, or court:<court name>")
    u.add_argument("--name", help="display name (default: from the routing file)")
    u.add_argument("--login", help="login name of the unit account (default: the code)")
    u.add_argument("--email", help="where the unit's notifications go")
    u.add_argument("--admin", action="store_true", help="an administrator, not a routed unit")
    u.set_defaults(func=cmd_unit_add)
    u = usub.add_parser("add-staff", help="add a named user under a unit; password printed once")
    u.add_argument("code", help="the unit")
    u.add_argument("login")
    u.add_argument("--name", required=True, help="the person's name")
    u.set_defaults(func=cmd_unit_add_staff)
    usub.add_parser("list", help="list units and accounts").set_defaults(func=cmd_unit_list)
    u = usub.add_parser("reset-password", help="new password for a login; printed once")
    u.add_argument("login")
    u.set_defaults(func=cmd_unit_reset_password)

    p = sub.add_parser("routing", help="check a complaints and reports routing file")
    p.add_argument("file", type=Path, nargs="?", help="default: SHIXIN_ROUTING_FILE or built-in")
    p.add_argument(
        "--install", action="store_true", help="check FILE, then put it in force for all workers"
    )
    p.add_argument("--history", action="store_true", help="list the installed routing files")
    p.set_defaults(func=cmd_routing)

    p = sub.add_parser(
        "alerts",
        help="match the list's changes against the watches, queueing alerts and the watch"
        " mails due (once)",
    )
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("screening", help="uploaded screenings of counterparty lists")
    ssub = p.add_subparsers(title="screening commands", metavar="ACTION")
    s = ssub.add_parser("run", help="match the rows of due screenings, then delete expired ones")
    s.add_argument("--batch", type=int, default=200, help="rows matched per transaction")
    s.add_argument("--limit", type=int, default=None, help="stop after this many rows")
    _add_quiet(s)
    s.set_defaults(func=cmd_screening_run)

    p = sub.add_parser("mail", help="send notification email from the outbox")
    p.add_argument("--once", action="store_true", help="send what is due, then stop")
    p.add_argument("--failed", action="store_true", help="list messages given up after retries")
    p.add_argument(
        "--retry-failed", action="store_true", help="queue the given-up messages again first"
    )
    p.set_defaults(func=cmd_mail)

    p = sub.add_parser("webhooks", help="push the change feed to the API keys' webhooks")
    p.add_argument("--once", action="store_true", help="send what is due, then stop")
    p.add_argument("--failed", action="store_true", help="list deliveries given up")
    p.set_defaults(func=cmd_webhooks)

    p = sub.add_parser("bot", help="run the Telegram bot and send Telegram notifications")
    p.add_argument("--once", action="store_true", help="send the Telegram messages due, then stop")
    p.add_argument("--failed", action="store_true", help="list messages given up after retries")
    p.add_argument(
        "--retry-failed", action="store_true", help="queue the given-up messages again first"
    )
    p.add_argument(
        "--console",
        action="store_true",
        help="talk to the bot in the terminal (no Telegram, no token, no network)",
    )
    p.add_argument(
        "--user-lang",
        choices=("zh", "en"),
        default="zh",
        help="the console user's Telegram language (default zh)",
    )
    p.add_argument(
        "--set-webhook",
        action="store_true",
        help="webhook mode: tell Telegram to post updates to SHIXIN_PUBLIC_URL/telegram/webhook",
    )
    p.add_argument(
        "--delete-webhook", action="store_true", help="leave webhook mode (polling works again)"
    )
    p.set_defaults(func=cmd_bot)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    return parser


@contextmanager
def _service(*, bulk: bool = False) -> Iterator[ListService]:
    """The list; ``bulk`` for an import, whose writer gets a larger page cache."""
    from core.db import Store
    from search_index.service import ListService

    settings = load_settings()
    cache = settings.import_cache_mib if bulk else None
    service = ListService(settings, store=Store(settings.database_url, write_cache_mib=cache))
    try:
        yield service
    finally:
        service.close()


def cmd_serve(args: argparse.Namespace) -> int:
    # Before settings are loaded: a check must not create key files in the data directory.
    problem = port_problem(args.host, args.port)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_ERROR
    if args.check_port:
        return EXIT_OK

    import uvicorn

    if args.no_access_log:
        os.environ["SHIXIN_ACCESS_LOG"] = "0"  # read by every worker's settings
    settings = load_settings()  # fail on bad configuration before forking workers
    from portal.ratelimit import per_worker_warning

    warning = per_worker_warning(settings, args.workers)
    if warning:
        logging.getLogger("shixin.serve").warning("%s", warning)
    with _metrics_dir(args.workers):
        uvicorn.run(
            "portal.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # The portal writes its own JSON access log without query strings (they can
            # hold ID numbers); uvicorn's would print them.
            access_log=False,
            # Client addresses come from SHIXIN_TRUSTED_PROXIES alone (portal/clientaddr.py);
            # uvicorn would otherwise believe X-Forwarded-For from any local peer.
            proxy_headers=False,
            log_level="debug" if args.verbose >= 2 else None,
        )
    return EXIT_OK


def _try_bind(host: str, port: int) -> OSError | None:
    """Bind a socket as uvicorn does (same family rule, SO_REUSEADDR), then let it go."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        return exc
    return None


def _free_port_near(host: str, port: int) -> int:
    """A port to suggest instead: the next free one above ``port`` (8080 if none is)."""
    for candidate in range(port + 1, min(port + 50, 65536)):
        if _try_bind(host, candidate) is None:
            return candidate
    return 8080


def port_problem(host: str, port: int) -> str | None:
    """Why ``shixin serve`` could not listen on ``host:port``, in Chinese then English; or
    None. Checked before anything starts, so ``make demo`` stops before a slow import and
    nobody has to read uvicorn's "[Errno 98]" traceback."""
    import errno

    exc = _try_bind(host, port)
    if exc is None:
        return None
    if exc.errno == errno.EADDRINUSE:
        other = _free_port_near(host, port)
        make, serve = f"make demo PORT={other}", f"shixin serve --port {other}"
        return (
            f"端口 {port} 已被占用：请换一个端口，例如 {make} 或 {serve}\n"
            f"Port {port} is already in use: pick another one, e.g. {make} or {serve}"
        )
    if exc.errno == errno.EACCES:
        return (
            f"无权使用端口 {port}（1024 以下的端口需要管理员权限）：请换一个端口，例如 8000\n"
            f"Not allowed to use port {port} (ports below 1024 need root): "
            "pick another one, e.g. 8000"
        )
    return (
        f"无法在 {host}:{port} 上监听：{exc.strerror or exc}\n"
        f"Cannot listen on {host}:{port}: {exc.strerror or exc}"
    )


@contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """Several workers share Prometheus counters through files in a fresh directory
    (prometheus_client's multiprocess mode), set before any worker imports the client."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="shixin-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(path, ignore_errors=True)


def _table_records(fmt: str, data: bytes) -> Iterator[tuple[int, object]]:
    """The records of a CSV or XLSX file (``search_index.ingest``)."""
    import io

    from search_index.ingest import csv_records, xlsx_records

    return csv_records(data) if fmt == "csv" else xlsx_records(io.BytesIO(data))


def _count_lines(path: Path) -> int:
    """Lines in the file, for the progress bar's total: a read at memory speed, which also
    brings the file into the page cache the import then reads it from."""
    count, last = 0, b"\n"
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def cmd_import(args: argparse.Namespace) -> int:
    from search_index.ingest import sniff_format
    from shixin.progress import shown

    path: Path = args.file
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return EXIT_ERROR
    fmt = args.format
    if fmt == "auto":
        with path.open("rb") as stream:
            fmt = sniff_format(path.name, head=stream.read(4096))
    # The bar ends before anything is printed on standard output.
    with _service(bulk=True) as service, shown("导入", "行", quiet=args.quiet) as progress:
        report = _import_file(service, args, fmt, progress)
    rejects_path = args.rejects or path.with_name(path.name + ".rejects.jsonl")
    warnings_path = args.warnings or path.with_name(path.name + ".warnings.jsonl")
    summary_path = path.with_name(path.name + ".summary.json")
    _write_jsonl(rejects_path, report.rejected)
    _write_jsonl(warnings_path, report.warnings)
    summary = {
        **report.summary(),
        "rejectsFile": str(rejects_path),
        "warningsFile": str(warnings_path),
    }
    summary_path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    print(
        f"导入完成：{report.lines} 行，新事件 {report.accepted}，重复 {report.duplicates}，"
        f"拒收 {len(report.rejected)}，{_warned_text(report.warned_lines, len(report.warnings))}。"
    )
    if report.synced is False:
        print(
            f"索引尚未跟上：另一进程的同步未在等待时间内结束，还有 {report.index_lag} 项变更待同步"
            "（已入库，门户的下一轮同步会补上）",
            file=sys.stderr,
        )
    _print_first(report.rejected, rejects_path, "拒收")
    _print_first(report.warnings, warnings_path, "警告")
    print(f"摘要：{summary_path}；拒收明细：{rejects_path}；警告明细：{warnings_path}")
    # Warnings do not fail the import: those lines are on the list.
    return EXIT_OK if report.ok else EXIT_REJECTS


def _import_file(
    service: ListService, args: argparse.Namespace, fmt: str, progress: Progress
) -> IngestReport:
    from search_index.follow import IndexedLines, sync_alongside
    from search_index.ingest import HashingReader, jsonl_records

    path: Path = args.file
    source = args.source or f"cli:{path.name}"
    with path.open("rb") as stream:
        if fmt in ("csv", "xlsx"):  # spreadsheets are small: read whole, hashed at once
            data = stream.read()
            if fmt == "csv" and not args.quiet:  # the header row is a line too: near enough
                progress.total = data.count(b"\n")
            return service.ingest(
                _table_records(fmt, data),
                source=source,
                filename=path.name,
                sha256=hashlib.sha256(data).hexdigest(),
                progress=progress,
            )
        if not args.quiet:
            progress.total = _count_lines(path)
        reader = HashingReader(stream)
        if path.stat().st_size < PARALLEL_BYTES:
            return service.ingest(
                jsonl_records(reader),
                source=source,
                filename=path.name,
                sha256=reader.hexdigest,
                progress=progress,
            )
        from search_index.parallel import ParallelJsonl

        # The bar follows the slowest of parsing, storing and indexing.
        indexed = IndexedLines(service.syncer, progress)
        with sync_alongside(indexed.catch_up):
            report = service.ingest(
                ParallelJsonl(reader, service.settings.id_hash_key.reveal()),
                source=source,
                filename=path.name,
                sha256=reader.hexdigest,
                sync=False,
                progress=indexed,
            )
        indexed.finish()
        service.sync_report(report)
        return report


SHOWN_LINES = 20  # rejections and warnings printed; the rest are in their files


def _warned_text(lines: int, warnings: int) -> str:
    if not warnings:
        return "警告 0"
    return f"警告 {warnings} 条（{lines} 行：已导入，个别字段被忽略或截断）"


def _write_jsonl(path: Path, items: Sequence[LineRejection | LineWarning]) -> None:
    with path.open("wb") as out:
        for item in items:
            out.write(orjson.dumps(item.as_dict()) + b"\n")


def _print_first(items: Sequence[LineRejection | LineWarning], path: Path, kind: str) -> None:
    for item in items[:SHOWN_LINES]:
        field = f"（{item.field}）" if item.field else ""
        print(f"  {kind}：第 {item.line} 行{field}：{item.message}", file=sys.stderr)
    if len(items) > SHOWN_LINES:
        print(f"  ……其余{kind}见 {path}", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    from search_index.demo import write_demo_file
    from shixin.progress import shown

    out = args.out or load_settings().data_dir / "demo.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with shown("生成演示数据", "条", quiet=args.quiet) as progress:
        lines = write_demo_file(out, args.count, args.seed, plain=args.plain, progress=progress)
    print(f"已写入 {lines} 行演示数据：{out}")
    return EXIT_OK


def cmd_demo_cases(args: argparse.Namespace) -> int:
    from core.workdays import default_calendar
    from shixin import demo_cases as demo

    settings = load_settings()
    if args.password is None and not demo.is_demo_store(settings.data_dir):
        print(
            f"{settings.data_dir} 中没有 demo.jsonl，看来不是演示数据目录：不创建演示账户。"
            "确需创建，请用 --password 指定密码。",
            file=sys.stderr,
        )
        return EXIT_ERROR
    password = args.password or demo.DEMO_PASSWORD
    with _casework() as (store, routing):
        if not demo.public_entry_count(store):
            print(
                "名单中还没有公开条目：请先运行 shixin demo-data 和 shixin import。",
                file=sys.stderr,
            )
            return EXIT_ERROR
        result = demo.create_demo_cases(
            store,
            routing,
            default_calendar(settings.holidays_file),
            password=password,
            seed=args.seed,
            public_url=settings.public_url,
        )
    codes = settings.data_dir / demo.CODES_FILE
    if result.tickets:
        demo.write_codes(codes, result)
    print(
        f"演示单位账户：新建 {len(result.created)} 个，已有 {len(result.existing)} 个（密码未改）。"
    )
    print(f"警告：新建账户的密码都是 {password}，仅供演示，切勿用于真实数据。")
    print("登录 /unit/login 试试（登录名一般即单位代码，全部账户见 shixin unit list）：")
    shown = {"tourism", "commerce", "education", "organization", "credit-group"}
    for code, login in result.logins.items():
        if code in shown or code.startswith("court:") or login.startswith("court-"):
            print(f"  {login}\t{routing.unit(code).name if routing.unit(code) else code}")
    if demo.ADMIN_UNIT in result.logins:
        admin = result.logins[demo.ADMIN_UNIT]
        print(f"  {admin}\t平台管理员（/unit/admin/：单位、账户、路由文件）")
    if result.skipped_tickets:
        print("已有演示工单，未再添加。")
    else:
        print(f"已添加演示工单 {len(result.tickets)} 件。")
    if codes.is_file():
        print(f"在 /track 输入编号和查询码试试（全部见 {codes}）：")
        rows = [line.split("\t") for line in codes.read_text(encoding="utf-8").splitlines()[1:]]
        for number, code, state, unit in rows:
            if state in ("replied", "reopened", "closed") or state.endswith("overdue"):
                print(f"  {number}  {code}  （{state}，{unit}）")
    return EXIT_OK


def cmd_compliance(args: argparse.Namespace) -> int:
    from search_index.compliance import format_text

    with _service() as service:
        report = service.compliance()
    if args.json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_text(report))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from portal.api_exports import EXPORT_LABELS
    from search_index.query import QueryError
    from shixin.progress import shown

    names = ("region", "court", "partyType", "publishedFrom", "publishedTo")
    params = {name: getattr(args, name) for name in names if getattr(args, name)}
    labels = EXPORT_LABELS if args.keys == "zh" else None
    # The bar is on standard error and ends before the closing line: standard output may
    # be the export itself.
    with _service() as service, shown("导出", "条", quiet=args.quiet) as progress:
        try:
            counted = None if args.quiet else progress  # quiet: not even the count
            snap, body = service.export(params, args.format, labels, counted)
        except QueryError as exc:
            print(f"{exc.field}：{exc.message}", file=sys.stderr)
            return EXIT_ERROR
        with args.output.open("wb") if args.output else nullcontext(sys.stdout.buffer) as out:
            for chunk in body:
                out.write(chunk)
    where = args.output or "标准输出"
    print(
        f"已导出至 {where}（快照 {snap.taken_at:%Y-%m-%d %H:%M:%S} UTC，游标 {snap.cursor}）",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_snapshot(args: argparse.Namespace) -> int:
    with _service() as service:
        done = service.write_snapshot(args.dir)
    print(f"快照：{done.path}（{done.entries} 条，游标 {done.cursor}）")
    print(f"校验：{done.checksum_path}  sha256 {done.sha256}")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    with _service() as service:
        result = service.sync()
    if result.skipped:
        print("另一进程正在同步，等待后仍未结束：本次未同步", file=sys.stderr)
        return EXIT_ERROR
    print(f"同步完成：更新 {result.upserted}，移除 {result.deleted}，确认移除 {result.confirmed}")
    return EXIT_OK


def cmd_replicas(args: argparse.Namespace) -> int:
    from search_index.replicas import ReplicaNotSilent

    with _service() as service:
        if args.forget:
            try:
                closed = service.forget_replica(args.forget)
            except ReplicaNotSilent as exc:
                print(f"只能忘记已失联的副本（{exc}）", file=sys.stderr)
                return EXIT_ERROR
            print(f"已忘记索引副本 {args.forget}；因此确认的移除：{closed}")
            return EXIT_OK
        for replica in service.replicas():
            print(
                f"{replica.name}  {replica.state}  尚未应用 {replica.lag} 项变更  "
                f"最近报告 {replica.as_dict()['seenAt']}"
            )
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    from shixin.progress import shown

    with _service() as service, shown("核对", "条", quiet=args.quiet) as progress:
        result = service.reconcile(progress)
    if args.json:
        print(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return EXIT_OK
    print(
        f"核对 {result.checked} 条：补入 {result.added}，刷新 {result.refreshed}，"
        f"移除 {result.removed}"
    )
    for kind, ids in result.samples.items():
        if ids:
            print(f"  {kind}: {', '.join(ids)}")
    return EXIT_OK


def cmd_expire(args: argparse.Namespace) -> int:
    with _service() as service:
        count = service.expire()
    print(f"有效期届满并已移除：{count} 条")
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    from watches.alerts import AlertRound
    from watches.digest import MailRound

    settings = load_settings()
    with _service() as service:
        result = AlertRound(service.store).run()
        key = settings.id_hash_key.reveal()
        mails = MailRound(service.store, key, settings.public_url).run()
    print(f"关注提醒：读取变更 {result.changes} 条，写入提醒 {result.alerts} 条")
    print(f"关注邮件：写入邮件 {mails.mails} 封（含提醒 {mails.alerts} 条）")
    return EXIT_OK


def cmd_reindex(args: argparse.Namespace) -> int:
    from search_index.lease import LeaseBusy
    from shixin.progress import shown

    with _service() as service:
        try:
            with shown("重建索引", "条", quiet=args.quiet) as progress:
                result = service.rebuild_index(progress)
        except LeaseBusy:
            print("另一次重建正在进行（或同步迟迟未结束）：本次未重建", file=sys.stderr)
            return EXIT_ERROR
    print(f"索引已重建并换入：{result.upserted} 条公开条目")
    return EXIT_OK


def cmd_token_add(args: argparse.Namespace) -> int:
    from search_index.tokens import create_token

    with _service() as service:
        token, info = create_token(
            service.store, args.unit, None if args.all_courts else args.court
        )
    print(f"令牌 #{info.id}（{info.unit}）已创建。它只显示这一次，请妥善保存：")
    print(token)
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    from search_index.tokens import list_tokens

    with _service() as service:
        for info in list_tokens(service.store):
            scope = info.court_scope or "全部法院"
            state = "已吊销" if info.revoked_at else "有效"
            print(f"#{info.id}\t{info.unit}\t{scope}\t{state}\t{info.created_at:%Y-%m-%d}")
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from search_index.tokens import revoke_token

    with _service() as service:
        done = revoke_token(service.store, args.id)
    print(f"令牌 #{args.id} 已吊销" if done else f"没有有效的令牌 #{args.id}")
    return EXIT_OK if done else EXIT_ERROR


@contextmanager
def _casework() -> Iterator[tuple[Store, Routing]]:
    from casework.routing_store import in_force
    from core.db import Store

    settings = load_settings()
    store = Store(settings.database_url)
    routing = in_force(store, settings.routing_file)  # an installed file wins
    try:
        yield store, routing
    finally:
        store.dispose()


def _casework_errors(func: Callable[[], int]) -> int:
    from casework.errors import CaseworkError
    from casework.routing import RoutingError

    try:
        return func()
    except (CaseworkError, RoutingError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR


def cmd_unit_add(args: argparse.Namespace) -> int:
    from casework.units import add_unit

    def run() -> int:
        with _casework() as (store, routing):
            login, password = add_unit(
                store,
                routing,
                args.code,
                name=args.name,
                login=args.login,
                email=args.email,
                admin=args.admin,
            )
        print(f"单位 {args.code} 的账户已创建。登录名：{login}")
        print(f"密码只显示这一次，请妥善保存：{password}")
        return EXIT_OK

    return _casework_errors(run)


def cmd_unit_add_staff(args: argparse.Namespace) -> int:
    from casework.units import add_staff

    def run() -> int:
        with _casework() as (store, _routing):
            password = add_staff(store, args.code, args.login, args.name)
        print(f"用户 {args.login}（{args.code}）已创建。密码只显示这一次，请妥善保存：{password}")
        return EXIT_OK

    return _casework_errors(run)


def cmd_unit_list(args: argparse.Namespace) -> int:
    from casework.units import list_units

    with _casework() as (store, _routing):
        for info in list_units(store):
            state = "已停用" if info.disabled else "有效"
            role = "管理员" if info.role == "admin" else "单位"
            print(f"{info.code}\t{info.name}\t{info.login}\t{role}\t工作人员 {info.staff}\t{state}")
    return EXIT_OK


def cmd_unit_reset_password(args: argparse.Namespace) -> int:
    from casework.units import reset_password

    def run() -> int:
        with _casework() as (store, _routing):
            password = reset_password(store, args.login)
        print(f"{args.login} 的新密码只显示这一次，请妥善保存：{password}")
        print("该用户的所有登录会话已结束。")
        return EXIT_OK

    return _casework_errors(run)


def _print_failed(store: Store, channel: str) -> None:
    """The outbox messages of ``channel`` given up after their retries (``--failed``)."""
    from casework import outbox
    from casework.mail import CST

    for m in outbox.failed(store, channel):
        when = f"{m.failed_at.astimezone(CST):%Y-%m-%d %H:%M}"
        print(f"#{m.id}\t{m.ticket_number or '-'}\t{when}\t{m.last_error}")


def cmd_screening_run(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from screening.jobs import Screenings
    from shixin.progress import shown

    settings = load_settings()
    retention = timedelta(hours=settings.screening_retention_hours)
    with _service() as service:
        jobs = Screenings(service, settings.id_hash_key.reveal(), retention)
        with shown("批量核对", "行", quiet=args.quiet) as progress:
            if not args.quiet:
                progress.total = jobs.rows_due(args.limit)
            matched = jobs.run(batch=max(1, args.batch), limit=args.limit, progress=progress)
        deleted = jobs.sweep()
    print(f"批量核对：核对 {matched} 行，删除保留期满的核对 {deleted} 个")
    return EXIT_OK


def _every(seconds: float, doing: str, one_round: Callable[[], object]) -> int:
    """Run ``one_round`` every ``seconds`` until Ctrl-C, saying so first."""
    import time

    print(f"{doing}，每 {seconds:g} 秒一轮；Ctrl-C 停止")
    try:
        while True:
            one_round()
            time.sleep(seconds)
    except KeyboardInterrupt:
        return EXIT_OK


def cmd_mail(args: argparse.Namespace) -> int:
    from casework import outbox
    from casework.mail import CHANNEL, MailSender, RoundReport
    from core.db import Store
    from watches.mail_texts import list_headers

    settings = load_settings()
    store = Store(settings.database_url)
    try:
        if args.failed:
            _print_failed(store, CHANNEL)
            return EXIT_OK
        if args.retry_failed:
            print(f"已重新排队 {outbox.retry_failed(store, channel=CHANNEL)} 封")
        headers = list_headers(settings.id_hash_key.reveal(), settings.public_url)
        sender = MailSender.from_settings(settings, store, extra_headers=headers)
        target = "SMTP 服务器" if settings.smtp_url else str(sender.outbox_dir)
        total = RoundReport()

        def rounds() -> None:  # everything due now, batch by batch
            while True:
                report = sender.deliver_pending()
                total.add(report)
                if report.claimed < sender.batch:
                    return

        if args.once:
            rounds()
            print(
                f"邮件（{target}）：已发送 {total.sent}，稍后重试 {total.retrying}，"
                f"放弃 {total.given_up}"
            )
            return EXIT_OK if total.given_up == 0 else EXIT_REJECTS
        return _every(settings.mail_interval_seconds, f"正在发送邮件（{target}）", rounds)
    finally:
        store.dispose()


def cmd_webhooks(args: argparse.Namespace) -> int:
    from core.db import Store
    from core.workdays import default_calendar
    from webhooks.delivery import WebhookSender
    from webhooks.queue import CHANNEL

    settings = load_settings()
    store = Store(settings.database_url)
    try:
        if args.failed:
            _print_failed(store, CHANNEL)
            return EXIT_OK
        sender = WebhookSender(
            store,
            settings.id_hash_key.reveal(),
            default_calendar(settings.holidays_file),
            public_url=settings.public_url,
            allow_http_loopback=settings.webhooks_allow_http_loopback,
            demo=settings.demo,
        )
        if args.once:
            report = sender.run()
            print(
                f"Webhook：已推送 {report.sent}，稍后重试 {report.retrying}，放弃 {report.given_up}"
            )
            return EXIT_OK if report.given_up == 0 else EXIT_REJECTS
        return _every(settings.mail_interval_seconds, "正在推送 webhook", sender.run)
    finally:
        store.dispose()


def cmd_bot(args: argparse.Namespace) -> int:
    from casework import outbox
    from casework.telegram_links import CHANNEL
    from core.db import Store

    settings = load_settings()
    store = Store(settings.database_url)
    try:
        if args.failed:
            _print_failed(store, CHANNEL)
            return EXIT_OK
        if args.console:
            from bot.run import run_console

            run_console(settings, store, language=args.user_lang)
            return EXIT_OK
        if settings.telegram_token is None:
            print(
                "未设置 SHIXIN_TELEGRAM_TOKEN：请先在 Telegram 中通过 @BotFather 创建机器人，"
                "再把它给出的令牌设为 SHIXIN_TELEGRAM_TOKEN。",
                file=sys.stderr,
            )
            return EXIT_ERROR
        if args.set_webhook or args.delete_webhook:
            return _webhook(settings, set_it=args.set_webhook)
        if args.retry_failed:
            print(f"已重新排队 {outbox.retry_failed(store, channel=CHANNEL)} 条")
        from bot.run import deliver_once, run_polling

        if args.once:
            report = deliver_once(settings, store)
            print(
                f"Telegram：已发送 {report.sent}，稍后重试 {report.retrying}，"
                f"放弃 {report.given_up}"
            )
            return EXIT_OK if report.given_up == 0 else EXIT_REJECTS
        if settings.telegram_webhook_secret is not None:
            print(
                "已设置 SHIXIN_TELEGRAM_WEBHOOK_SECRET：机器人在门户中以 webhook 方式运行，"
                "无需 shixin bot。要改回长轮询，先运行 shixin bot --delete-webhook 并取消该设置。",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print("Telegram 机器人运行中（长轮询）；Ctrl-C 停止")
        run_polling(settings, store)
        return EXIT_OK
    finally:
        store.dispose()


def _webhook(settings: Settings, *, set_it: bool) -> int:
    """``shixin bot --set-webhook`` / ``--delete-webhook``; a missing setting is a
    ConfigError, which main() reports."""
    from telegram.error import TelegramError

    from bot.webhook import delete_webhook, set_webhook

    try:
        if set_it:
            url = set_webhook(settings)
            print(f"已设置 webhook：Telegram 将把更新发送到 {url}")
        else:
            delete_webhook(settings)
            print("已删除 webhook：shixin bot 可以重新以长轮询方式运行")
    except TelegramError as exc:
        print(f"Telegram 拒绝了请求：{exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def cmd_routing(args: argparse.Namespace) -> int:
    from casework.routing import RoutingError, load_routing

    if args.install or args.history:
        return _routing_files(args)
    try:
        routing = load_routing(args.file or load_settings().routing_file)
    except RoutingError as exc:
        print(f"路由文件有误：{exc}", file=sys.stderr)
        return EXIT_ERROR
    print(
        f"{routing.origin}：版本 {routing.version}，{len(routing.units)} 个单位，"
        f"{len(routing.reports())} 类举报，{len(routing.complaints())} 类投诉"
    )
    return EXIT_OK


def _routing_files(args: argparse.Namespace) -> int:

    from casework import routing_store
    from casework.routing import RoutingError, chinese_error

    if args.install and not args.file:
        print("--install 需要给出路由文件", file=sys.stderr)
        return EXIT_ERROR
    with _casework() as (store, _current):
        if args.install:
            try:
                text = routing_store.decode(args.file.read_bytes())
                routing = routing_store.install(store, text, "cli", load_settings().routing_file)
            except OSError as exc:
                print(f"无法读取 {args.file}：{exc}", file=sys.stderr)
                return EXIT_ERROR
            except RoutingError as exc:
                print(f"路由文件有误，未安装：{chinese_error(exc)}", file=sys.stderr)
                return EXIT_ERROR
            assert routing.installed is not None
            print(
                f"已安装第 {routing.installed.id} 号路由文件（版本 {routing.version}），"
                "各进程将在数秒内改用它"
            )
        if args.history:
            rows = routing_store.history(store)
            if not rows:
                print("还没有安装过路由文件（生效的是 SHIXIN_ROUTING_FILE 或内置文件）")
            for i, v in enumerate(rows):
                when = v.installed_at.astimezone(CST)
                mark = "\t生效中" if i == 0 else ""
                print(
                    f"#{v.id}\t{v.version}\t{v.installed_by}\t{when:%Y-%m-%d %H:%M}"
                    f"\t{v.sha256[:12]}{mark}"
                )
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.db import Store

    Store(load_settings().database_url).dispose()
    print("数据库已是最新结构")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
