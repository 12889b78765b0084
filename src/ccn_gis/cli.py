"""The ``ccn-gis`` command line.

Every command that reads layers exits with status 1 and the validation report
when they are broken, and with status 2 for a usage mistake — never with a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from ccn_gis.errors import CcnGisError, ValidationError
from ccn_gis.figures import (
    figures_by_admin,
    figures_by_cluster,
    figures_json,
    province_figures,
)
from ccn_gis.io import load_dataset, open_store, read_settings, validate_store, write_settings
from ccn_gis.io.landuse import default_raster_path, land_use_measure, landuse_table
from ccn_gis.io.raster import LandUseRaster
from ccn_gis.io.scenario_file import read_scenario
from ccn_gis.landuse import to_records
from ccn_gis.report import landuse_report, problems_report, province_report, scoped_report
from ccn_gis.scenario_check import check_scenario
from ccn_gis.scenario_report import comparison_report, scenario_report
from ccn_gis.settings import AppSettings, Lang, ProvinceSettings, rule_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from err


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
                          help="e.g. --set area_crs=EPSG:9210 --set province_name='Nam Định'")
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

    serve = sub.add_parser("serve", help="serve the layers over HTTP (OGC API – Features, "
                           "downloads, figures)")
    with_layers(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    return parser


def _lang(args: argparse.Namespace, app: AppSettings, province: ProvinceSettings) -> Lang:
    return args.lang or app.lang or province.lang


def _stats(args: argparse.Namespace, app: AppSettings) -> int:
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


def _settings(args: argparse.Namespace, app: AppSettings) -> int:
    store = open_store(app.layers)
    current = read_settings(store)
    if args.set:
        changes = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CcnGisError(f"--set {item!r}: write KEY=VALUE")
            changes[key.strip()] = value
        updated = ProvinceSettings.from_table(current.to_table() | changes)
        write_settings(app.layers, updated.to_table())
        current = updated
    _print_json(current.model_dump())
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
    measure = land_use_measure(dataset, open_store(app.layers))
    defaults = rule_settings(dataset.settings)
    files = [args.file] if args.scenario_command == "check" else args.files
    results = [
        check_scenario(dataset, read_scenario(f, dataset, defaults=defaults),
                       land_use_under=measure, lang=lang)
        for f in files
    ]
    if args.json:
        _print_json(results[0] if args.scenario_command == "check" else results)
    elif args.scenario_command == "check":
        print(scenario_report(results[0], lang=lang))
    else:
        print(comparison_report(results, lang=lang))
    return 0


def _serve(args: argparse.Namespace, app: AppSettings) -> int:
    try:  # the web app is an optional part: pip install 'ccn-gis[server]'
        import uvicorn

        from ccn_gis_api import create_app
    except ImportError as err:
        raise CcnGisError(
            f"the web server is not installed ({err}); run scripts/setup.sh, or "
            "pip install 'ccn-gis[server]'"
        ) from err
    web = create_app(app)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"ccn-gis: mở http://{shown}:{args.port}/ trong trình duyệt, hoặc thêm địa chỉ này "
          f"vào QGIS (OGC API – Features) · open http://{shown}:{args.port}/", flush=True)
    uvicorn.run(web, host=args.host, port=args.port, log_level="warning")
    return 0


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    overrides = {k: v for k, v in (("layers", args.layers), ("lang", args.lang)) if v}
    try:
        app = AppSettings(**overrides)
        command = {"stats": _stats, "validate": _validate, "settings": _settings,
                   "landuse": _landuse, "scenario": _scenario, "serve": _serve}[args.command]
        return command(args, app)
    except ValidationError as err:
        lang: Lang = args.lang or "vi"
        print(problems_report(err.problems, source=err.source, lang=lang), file=sys.stderr)
        return 1
    except CcnGisError as err:
        print(f"ccn-gis: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the output was piped into head or less and closed early
        sys.stderr.close()
        return 0
    except PydanticValidationError as err:  # a bad CCN_GIS_* environment variable
        print(f"ccn-gis: invalid setting: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
