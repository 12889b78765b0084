"""The ``ccn-gis`` command line.

Exit statuses — never a traceback:

0
    Done.
1
    The input is wrong or cannot be used (the layers are broken: the validation report;
    a file missing, unreadable, read-only or busy; a setting refused). The message says
    what to do.
2
    A usage mistake (argparse's usage line and the option at fault), or a bad
    ``CCN_GIS_*`` environment variable.
70
    A bug in ccn-gis (``EX_SOFTWARE``): one paragraph on stderr, Vietnamese then English,
    and the traceback in a report file whose path it gives
    (``$XDG_STATE_HOME/ccn-gis/crash-YYYYmmdd-HHMMSS-PID.txt``, else
    ``~/.local/state/ccn-gis/``, else the temporary folder). ``CCN_GIS_DEBUG=1`` lets the
    exception through instead, for developers.
130
    Interrupted (Ctrl-C), quietly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import json
import os
import platform
import signal
import socket
import sys
import tempfile
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError as PydanticValidationError

from ccn_gis import cli_users
from ccn_gis.errors import CcnGisError, DataSourceError, SettingsError, ValidationError
from ccn_gis.figures import (
    figures_by_admin,
    figures_by_cluster,
    figures_json,
    province_figures,
)
from ccn_gis.io import load_dataset, open_store, validate_store, write_settings
from ccn_gis.io.landuse import default_raster_path, landuse_table
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.io.scenarios import check_scenario_files
from ccn_gis.landuse import to_records
from ccn_gis.report import landuse_report, problems_report, province_report, scoped_report
from ccn_gis.scenario_report import comparison_report, scenario_report
from ccn_gis.settings import (
    AppSettings,
    Lang,
    ProvinceSettings,
    known_settings,
    unknown_setting_message,
)

EX_SOFTWARE = 70
"""The exit status of a bug in ccn-gis (sysexits.h)."""
EX_INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT), as shells report it."""
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
"""The dates ``--as-of`` accepts: beyond them a date is a typing mistake."""


def _date(text: str) -> dt.date:
    try:
        date = dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from err
    if not FIRST_DATE <= date <= LAST_DATE:
        raise argparse.ArgumentTypeError(
            f"{text}: give a date from {FIRST_DATE} to {LAST_DATE}")
    return date


def _recorded(text: str) -> dt.datetime:
    from ccn_gis.io.register import recorded_time

    try:
        return recorded_time(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port; give a whole number from 1 to 65535, e.g. 8000")
    return port


def _assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r}: write KEY=VALUE (KEY= takes the default); keys: "
            f"{', '.join(known_settings())}")
    return key.strip(), value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccn-gis",
        description="Industrial clusters (cụm công nghiệp) of a Vietnamese province: "
        "layers, areas in VN-2000 and the province's figures.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_layers(p: argparse.ArgumentParser) -> None:
        p.add_argument("--layers", type=Path, default=None, metavar="PATH",
                       help="the province's GeoPackage (default: $CCN_GIS_LAYERS or "
                       "layers/thai_binh.gpkg)")
        p.add_argument("--lang", choices=["vi", "en"], default=None,
                       help="report language (default: the province's setting, else vi)")

    stats = sub.add_parser("stats", help="the province's figures (Vietnamese table, or --json)")
    with_layers(stats)
    stats.add_argument("--as-of", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="count only what was decided, leased or registered by this date")
    stats.add_argument("--recorded-at", type=_recorded, default=None, metavar="TIME",
                       help="the register as it stood then (2026-12-14T17:00, Viet Nam time "
                       "unless an offset is given): later changes made with ccn-gis undone")
    stats.add_argument("--by", choices=["province", "admin", "cluster"], default="province",
                       help="one object for the province, or one per unit or cluster")
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")

    validate = sub.add_parser("validate", help="check the layers against the data model")
    with_layers(validate)
    validate.add_argument("--json", action="store_true", help="print the problems as JSON")

    settings = sub.add_parser(
        "settings", help="show, or with --set change, the province settings kept in the file"
    )
    with_layers(settings)
    settings.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          type=_assignment,
                          help="e.g. --set area_crs=EPSG:9210 --set province_name='Nam Định'; "
                          "KEY= takes the default. Every value is checked (rule thresholds "
                          "too) and nothing is written when one is wrong; unknown keys are "
                          "refused")
    landuse = sub.add_parser(
        "landuse", help="hectares of each land-use class in clusters, extents, parcels or a file")
    with_layers(landuse)
    source = landuse.add_mutually_exclusive_group()
    source.add_argument("--raster", type=Path, default=None, metavar="PATH",
                        help="the land-use GeoTIFF (default: the province's landuse_raster)")
    source.add_argument("--plan-layer", choices=["landuse_plan"], default=None,
                        help="use the vector land-use plan layer instead of the raster")
    landuse.add_argument("--zones", required=True, metavar="clusters|approved_extents|parcels|FILE",
                         help="the zones: a layer of the data model or a vector file")
    landuse.add_argument("--json", action="store_true",
                         help="print a list of {zone_id, class_code, area_ha, share}")

    scenario = sub.add_parser("scenario", help="check 2030 expansion scenarios against the rules "
                              "of Decree 32/2024/NĐ-CP")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True,
                                           metavar="check|compare")
    check = scenario_sub.add_parser("check", help="project a scenario (or the plan as it "
                                    "stands) and list its findings")
    check.add_argument("file", nargs="?", type=Path, default=None, metavar="SCENARIO.yaml")
    with_layers(check)
    check.add_argument("--json", action="store_true", help="print the whole result as JSON")
    compare = scenario_sub.add_parser("compare", help="compare scenarios side by side")
    compare.add_argument("files", nargs="+", type=Path, metavar="SCENARIO.yaml")
    with_layers(compare)
    compare.add_argument("--json", action="store_true", help="print the results as JSON")

    cli_users.add_parser(sub, with_layers)

    serve = sub.add_parser("serve", help="serve the layers over HTTP (OGC API – Features, "
                           "downloads, figures)")
    with_layers(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (1–65535)")
    return parser


def _lang(args: argparse.Namespace, app: AppSettings, province: ProvinceSettings) -> Lang:
    return args.lang or app.lang or province.lang


def _stats(args: argparse.Namespace, app: AppSettings) -> int:
    if args.recorded_at is not None:
        from ccn_gis.io.register import load_recorded

        dataset = load_recorded(app.layers, args.recorded_at)
    else:
        dataset = load_dataset(app.layers)
    lang = _lang(args, app, dataset.settings)
    for warning in dataset.warnings:
        print(f"- {warning.render(lang)}", file=sys.stderr)
    province = dataset.settings.province_name or Path(dataset.source).stem
    if args.json:
        _print_json(figures_json(dataset, as_of=args.as_of, by=args.by))
    elif args.by == "province":
        figures = province_figures(dataset, as_of=args.as_of)
        print(province_report(figures, province=province, as_of=args.as_of, lang=lang))
    else:
        scoped = (figures_by_admin if args.by == "admin" else figures_by_cluster)(
            dataset, as_of=args.as_of
        )
        print(scoped_report(scoped, province=province, as_of=args.as_of, lang=lang))
    return 0


def _validate(args: argparse.Namespace, app: AppSettings) -> int:
    problems = validate_store(app.layers)
    if args.json:
        _print_json([p.to_dict() for p in problems])
    else:
        lang = args.lang or app.lang or "vi"
        print(problems_report(problems, source=str(app.layers), lang=lang))
    return 1 if any(p.is_error for p in problems) else 0


def _geopackage_only(path: Path) -> None:
    """Refuse another format GDAL reads (Shapefile, CSV…): settings live in a GeoPackage."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:  # pragma: no cover - open_store has just read it
        head = b""
    if head != b"SQLite format 3\x00":
        raise DataSourceError(
            f"{path}: not a GeoPackage ({path.suffix or 'no extension'}); a province's "
            "settings are kept in its GeoPackage: give the .gpkg with --layers")


def _settings(args: argparse.Namespace, app: AppSettings) -> int:
    if not args.set:
        store = open_store(app.layers)
        _geopackage_only(app.layers)
        current = ProvinceSettings.from_table(store.read_settings())
        _print_json(current.model_dump())
        return 0
    changes = dict(args.set)
    for key in changes:
        if key not in known_settings():
            raise SettingsError(f"--set {key}=…: {unknown_setting_message(key)}. Nothing was "
                                "written")
    rows = write_settings(app.layers, changes, update=True, timeout=app.busy_timeout)
    _print_json(ProvinceSettings.from_table(rows).model_dump())
    return 0


def _landuse(args: argparse.Namespace, app: AppSettings) -> int:
    dataset = load_dataset(app.layers)
    store = open_store(app.layers) if args.plan_layer else None
    table = landuse_table(dataset, zones=args.zones, raster=args.raster, store=store)
    if args.json:
        _print_json(to_records(table))
    else:
        classes = None
        if store is None:
            raster = args.raster or default_raster_path(dataset)
            classes = LandUseRaster.open(raster).table if raster else None
        print(landuse_report(table, classes=classes, lang=_lang(args, app, dataset.settings)))
    return 0


def _scenario(args: argparse.Namespace, app: AppSettings) -> int:
    dataset = load_dataset(app.layers)
    lang = _lang(args, app, dataset.settings)
    files = [args.file] if args.scenario_command == "check" else args.files
    results = check_scenario_files(dataset, files, open_store(app.layers), lang=lang)
    if args.json:
        _print_json(results[0].to_json() if args.scenario_command == "check"
                    else [r.to_json() for r in results])
    elif args.scenario_command == "check":
        print(scenario_report(results[0], lang=lang))
    else:
        print(comparison_report(results, lang=lang))
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or a CcnGisError saying why it cannot be."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as err:
        raise CcnGisError(
            f"--host {host}: no such address or host name ({err}); give an address of this "
            "computer: 127.0.0.1 (this computer only) or 0.0.0.0 (every network)") from err
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            why = (f"port {port} is already in use, by another program or another "
                   "ccn-gis serve; stop it, or choose another port, e.g. --port "
                   f"{port + 1 if port < 65535 else 8000}")
        elif err.errno == errno.EACCES:
            why = (f"port {port} needs administrator rights (ports below 1024 do); choose "
                   "one from 1024 up, e.g. --port 8000")
        elif err.errno == errno.EADDRNOTAVAIL:
            why = ("this is not an address of this computer; use 127.0.0.1 (this computer "
                   "only) or 0.0.0.0 (every network)")
        else:
            why = "choose another --host or --port"
        raise CcnGisError(f"cannot listen on {host} port {port} ({err.strerror or err}): "
                          f"{why}") from err
    return sock


def _serve(args: argparse.Namespace, app: AppSettings) -> int:
    try:  # the web app is an optional part: pip install 'ccn-gis[server]'
        import uvicorn

        from ccn_gis_api import create_app
        from ccn_gis_api.limits import Limits
    except ImportError as err:
        raise CcnGisError(
            f"the web server is not installed ({err}); run scripts/setup.sh, or "
            "pip install 'ccn-gis[server]'"
        ) from err
    try:
        limits = Limits()
    except PydanticValidationError as err:  # a bad CCN_GIS_* limit
        raise CcnGisError("invalid setting: " + "; ".join(
            f"CCN_GIS_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}: "
            f"{e['msg']}" for e in err.errors())) from err
    sock = _listen(args.host, args.port)  # before the layers are loaded: a mistake shows now
    try:
        web = create_app(app, limits)
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        shown = f"[{shown}]" if ":" in shown else shown
        print(f"ccn-gis: mở http://{shown}:{args.port}/ trong trình duyệt, hoặc thêm địa chỉ "
              f"này vào QGIS (OGC API – Features) · open http://{shown}:{args.port}/",
              flush=True)
        # stop within seconds whatever the clients do; more connections at once get 503
        server = uvicorn.Server(uvicorn.Config(
            web, log_level="warning", timeout_graceful_shutdown=limits.shutdown_s,
            limit_concurrency=limits.connections, timeout_keep_alive=limits.keep_alive_s))
        # uvicorn shuts down on SIGTERM, then raises the signal again for the handler it
        # found: with Python's default the process would die there, before the clean-up
        # at exit (download folders, private copies); this one lets it end normally
        signal.signal(signal.SIGTERM, _stopped)
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise CcnGisError("the web server did not start; the messages above say why")
    return 0


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM after the server has shut down: nothing left to do but exit normally."""


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _report_folders() -> list[Path]:
    """Where a crash report may go, best first (the temporary folder comes after)."""
    folders = []
    state = os.environ.get("XDG_STATE_HOME", "")
    if state and Path(state).is_absolute():
        folders.append(Path(state) / "ccn-gis")
    try:
        folders.append(Path.home() / ".local" / "state" / "ccn-gis")
    except (RuntimeError, KeyError):  # no home directory
        pass
    return folders


def _write_crash_report(err: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the traceback of ``err`` to a new report file; return its path (None: nowhere)."""
    try:
        from importlib.metadata import version

        ours = version("ccn-gis")
    except Exception:  # noqa: BLE001 - a report must not fail for want of metadata
        ours = "unknown"
    now = dt.datetime.now()
    text = (f"ccn-gis {ours} crash report, {now.isoformat(timespec='seconds')}\n"
            f"command: ccn-gis {' '.join(argv)}\n"
            f"python {platform.python_version()} on {platform.platform()}\n\n"
            + "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    stem = f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}"
    for folder in _report_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        for n in range(100):  # a second crash of this process in the same second: -2, -3…
            path = folder / (f"{stem}.txt" if n == 0 else f"{stem}-{n + 1}.txt")
            try:
                with open(path, "x", encoding="utf-8", errors="backslashreplace") as f:
                    f.write(text)
                return path
            except FileExistsError:
                continue
            except OSError:
                break
    try:  # a fresh file of our own, never one planted in a shared folder
        fd, temp = tempfile.mkstemp(prefix=f"ccn-gis-{stem}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        return Path(temp)
    except OSError:
        return None


def _crash(err: BaseException, argv: Sequence[str]) -> int:
    """Say in one paragraph that ccn-gis has a bug, where the details are; return 70."""
    report = _write_crash_report(err, argv)
    what = " ".join(f"{type(err).__name__}: {err}".split())
    what = what if len(what) <= 300 else f"{what[:297]}…"
    if report is not None:
        vi = (f"chi tiết đã được ghi vào {report}; hãy gửi tệp đó cùng câu lệnh đã chạy cho "
              "người bảo trì")
        en = (f"the details are in {report}: please send that file, with the command you ran, "
              "to the maintainers")
    else:
        vi = "không ghi được tệp báo cáo; chạy lại với CCN_GIS_DEBUG=1 để xem chi tiết"
        en = "no report file could be written; run again with CCN_GIS_DEBUG=1 to see the details"
    _say(f"ccn-gis: lỗi: ccn-gis gặp lỗi không lường trước ({what}). Đây là lỗi của chương "
         f"trình, không phải của bạn; {vi}. / error: ccn-gis hit an unexpected error. This is "
         f"a bug in ccn-gis, not your mistake; {en}.")
    return EX_SOFTWARE


def _say(text: str) -> None:
    """Print ``text`` on stderr, if stderr is still there."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed or gone: the status says it all
        pass


def _tolerant_streams() -> None:
    """Never fail for a terminal that cannot show Vietnamese: replace what it cannot."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = str(getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if reconfigure is not None and encoding != "utf8":
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):  # pragma: no cover - a stream already closed
                pass


def _silence_stdout() -> None:
    """After a broken pipe: send what is left of stdout nowhere, so that exiting is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests), already closed
        pass


def _run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("layers", args.layers), ("lang", args.lang)) if v}
    try:
        app = AppSettings(**overrides)
    except PydanticValidationError as err:  # a bad CCN_GIS_* environment variable
        details = "; ".join(
            f"CCN_GIS_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}: "
            f"{e['msg']}" for e in err.errors())
        print(f"ccn-gis: invalid setting: {details}", file=sys.stderr)
        return 2
    command = {"stats": _stats, "validate": _validate, "settings": _settings,
               "landuse": _landuse, "scenario": _scenario, "serve": _serve,
               "user": cli_users.run}[args.command]
    try:
        return command(args, app)
    except ValidationError as err:
        lang: Lang = args.lang or app.lang or "vi"
        print(problems_report(err.problems, source=err.source, lang=lang), file=sys.stderr)
        return 1
    except CcnGisError as err:
        print(f"ccn-gis: {err}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module's documentation)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    _tolerant_streams()
    with warnings.catch_warnings():  # a library's warning: one line, not its source code
        warnings.showwarning = _show_warning
        return _main(arguments)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
    text = " ".join(str(message).split())
    print(f"ccn-gis: cảnh báo / warning: {text}", file=file or sys.stderr)


def _main(arguments: list[str]) -> int:
    try:
        try:
            args = _parser().parse_args(arguments)
        except SystemExit as done:  # --help, or a usage mistake argparse has explained
            return 0 if done.code is None else done.code if isinstance(done.code, int) else 2
        status = _run(args)
        sys.stdout.flush()  # a broken pipe shows here, not while Python exits
        return status
    except KeyboardInterrupt:
        return EX_INTERRUPTED
    except BrokenPipeError:  # the output was piped into head or less and closed early
        _silence_stdout()
        return 0
    except MemoryError:
        _say("ccn-gis: lỗi: không đủ bộ nhớ; hãy đóng bớt chương trình khác rồi chạy lại. / "
             "error: not enough memory; close other programs and run it again.")
        return 1
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            _say(f"ccn-gis: lỗi: ổ đĩa đã đầy ({err.filename or err}); hãy giải phóng chỗ "
                 "trống rồi chạy lại. / error: the disk is full; free some space and run it "
                 "again.")
            return 1
        if _debugging():
            raise
        return _crash(err, arguments)
    except Exception as err:  # noqa: BLE001 - the last resort: a bug, never a traceback
        if _debugging():
            raise
        return _crash(err, arguments)


def _debugging() -> bool:
    """Whether ``CCN_GIS_DEBUG`` asks for the exception itself instead of a crash report."""
    return os.environ.get("CCN_GIS_DEBUG", "").strip() not in ("", "0")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
