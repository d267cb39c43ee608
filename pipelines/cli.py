"""The `skillseq` command: run, validate, show, publish.

skillseq run configs/dry_run.yaml [--set lintseq.samples_per_program=3] [--runner=... any Beam flag]
skillseq validate configs/dataflow.yaml
skillseq show out --config edit_sequences -n 3
skillseq publish out --repo-id user/name [--private] [--dry-run] [--allow-benchmark-data]
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from skillseq.config import ConfigError, dump_config, load_config
from skillseq.redaction import install_log_redaction, redact


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skillseq", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a config; unknown flags go to Beam (--runner, --project, ...)")
    run.add_argument("config")
    run.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a setting")
    run.add_argument("--no-progress", action="store_true", help="no live display of records per stage")

    validate = sub.add_parser("validate", help="check a config and print it resolved")
    validate.add_argument("config")
    validate.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")

    show = sub.add_parser("show", help="print a few records of an output folder")
    show.add_argument("out")
    show.add_argument("--config", default=None, help="one config (default: all)")
    show.add_argument("-n", type=int, default=3)

    publish = sub.add_parser("publish", help="upload an output folder to the Hugging Face Hub")
    publish.add_argument("out")
    publish.add_argument("--repo-id", required=True)
    publish.add_argument("--private", action="store_true")
    publish.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    publish.add_argument(
        "--allow-benchmark-data",
        action="store_true",
        help="publish a folder seeded from a benchmark (allow_benchmark_seeds: true); refused without it",
    )
    return parser


def _run(args, beam_args: list[str]) -> int:
    from skillseq.pipelines.run import run
    from skillseq.summary import print_summary

    cfg = load_config(args.config, args.set)
    progress = not args.no_progress and sys.stderr.isatty()
    counters, written = run(cfg, beam_args, progress=progress)
    print_summary(counters, {name: s.rows for name, s in written.items()}, cfg.output.path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args, rest = _parser().parse_known_args(argv)
    if rest and args.command != "run":
        _parser().error(f"unrecognized arguments: {' '.join(rest)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    try:
        if args.command == "run":
            return _run(args, rest)
        if args.command == "validate":
            print(dump_config(load_config(args.config, args.set)), end="")
            return 0
        if args.command == "show":
            from skillseq.show import show

            show(args.out, args.config, args.n)
            return 0
        if args.command == "publish":
            from skillseq.publish import publish

            publish(
                args.out,
                args.repo_id,
                private=args.private,
                dry_run=args.dry_run,
                allow_benchmark_data=args.allow_benchmark_data,
            )
            return 0
    except ConfigError as e:
        print(f"error: {redact(str(e))}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {redact(str(e))}", file=sys.stderr)
        return 1
    except Exception:  # a pipeline failure: show the whole story, minus any credential it quotes
        print(redact(traceback.format_exc()), file=sys.stderr)
        return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
