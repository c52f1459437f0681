"""Thin click commands over plain functions."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from dpgkg.config import AssetMissing, Settings
from dpgkg.sources import SourceError

# What a user can fix (a source out of reach, an incomplete install): one line, exit 2.
USER_ERRORS = (SourceError, AssetMissing)


def _settings(ctx: click.Context, **overrides) -> Settings:
    return ctx.obj.with_(**overrides)


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("dpgkg.debug"))


class _Group(click.Group):
    """Commands whose user errors end in one line and exit 2 (a traceback with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if ctx.meta.get("dpgkg.debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.option("--base-iri", envvar="DPGKG_BASE_IRI", help="Base of minted IRIs.")
@click.option("--debug", is_flag=True, envvar="DPGKG_DEBUG",
              help="Show the traceback of an error, not just its one line.")
@click.pass_context
def main(ctx: click.Context, base_iri: str | None, debug: bool) -> None:
    """dpgkg: the Digital Public Goods knowledge graph."""
    ctx.meta["dpgkg.debug"] = debug
    ctx.obj = Settings.from_env(base_iri=base_iri)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@main.command()
@click.option("--sources", type=click.Path(file_okay=False),
              help="Directory laid out like ../shared (default: $DPGKG_SOURCES, else the public "
                   "sources, which need the network).")
@click.option("--store", type=click.Path(), help="Store directory (or http(s) URL).")
@click.option("--history", metavar="PATH|URL",
              help="The registry's git history (a clone, a git bundle or a git URL): records' "
                   "dates and changes (default: $DPGKG_HISTORY; none: dates unknown).")
@click.option("--no-validate", is_flag=True, help="Skip validating records against the shapes.")
@click.option("--reasoner", type=click.Choice(["fast", "owlrl"]),
              help="What infers the ontology's entailments: fast (default) or owlrl, the "
                   "reference implementation (much slower).")
@click.option("--no-dumps", is_flag=True,
              help="Skip writing dumps, VoID counts and the change feed (a quick rebuild).")
@click.option("--allow-shrink", is_flag=True,
              help="Swap the new graph in even when it has lost more than DPGKG_MAX_SHRINK "
                   "of the solutions, records or triples of the graph served.")
@click.option("--full", is_flag=True,
              help="Validate every record again, ignoring the build cache beside the store "
                   "(by default a record validated unchanged before keeps its outcome).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.pass_context
def build(ctx, sources, store, history, no_validate, no_dumps, quiet, reasoner,
          allow_shrink, full):
    """Harvest the sources, infer, validate and swap the new graph in."""
    from dpgkg.build import ShrinkRefused
    from dpgkg.build import build as run_build

    settings = _settings(ctx, sources=sources, store=store, reasoner=reasoner,
                         history=history)
    bars = []

    def progress(step: str, total: int | None = None):
        """A line per step; a bar (on stderr) for a step that counts records."""
        if total is None:
            click.echo(f"... {step}", err=True)
            return None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"    {step}", unit="rec", leave=False)
        bars.append(bar)

        def advance(n: int) -> None:
            bar.update(n)
            if bar.n >= bar.total:
                bar.close()

        return advance

    # SIGTERM (a stopped job, a container shutdown) unwinds like Ctrl-C: the store
    # writer's abort throws the half-written version away instead of leaving it.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = run_build(settings, progress=None if quiet else progress,
                           validate=not no_validate, publish=not no_dumps,
                           allow_shrink=allow_shrink, full=full)
    except ShrinkRefused as exc:  # not a crash: a verdict on the sources, exit 2
        for p in exc.report.skipped:
            click.echo(f"skipped: {p}", err=True)
        click.echo(f"build refused: {exc}", err=True)
        click.echo("the previous graph is still in place", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("build interrupted: nothing was swapped in; "
                   "the previous graph (if any) is still in place", err=True)
        sys.exit(130)
    except USER_ERRORS:
        raise  # one line and exit 2, by the group
    except Exception as exc:  # a failed build says why, and keeps the old graph
        if _debug():
            raise
        click.echo(f"build failed: {type(exc).__name__}: {exc}", err=True)
        click.echo("the previous graph (if any) is still in place", err=True)
        sys.exit(1)
    finally:
        for bar in bars:
            bar.close()
    for p in report.skipped:
        click.echo(f"skipped: {p}", err=True)
    if not quiet:
        for p in report.warnings:
            click.echo(str(p), err=True)
    click.echo(json.dumps(report.summary(), indent=2))


@main.command()
@click.option("--sources", type=click.Path(file_okay=False),
              help="Directory laid out like ../shared (default: $DPGKG_SOURCES, else the public "
                   "registry, which needs the network).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def organisations(ctx, sources, fmt):
    """The reconciliation of organisation names by data/organisations.csv: merged groups,
    units, pairs kept apart, and the candidate pairs the table does not settle yet."""
    from dpgkg.build import organisation_reconciliation

    r = organisation_reconciliation(_settings(ctx, sources=sources))
    for p in r.problems:
        click.echo(str(p), err=True)
    if fmt == "json":
        click.echo(json.dumps({
            **r.summary(), "groups": r.groups, "units": r.units,
            "kept_apart": [[c.a, c.b, c.reason] for c in r.apart],
            "unsettled": [[c.a, c.b, c.reason] for c in r.unsettled],
            "unused_names": r.unused}, indent=2, ensure_ascii=False))
    else:
        click.echo(r.text(), nl=False)
        click.echo(json.dumps(r.summary()), err=True)


@main.command()
@click.argument("query")
@click.option("--store", type=click.Path(), help="Store directory (or http(s) URL).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv", "xml",
                                                     "turtle", "ntriples", "jsonld"]),
              default="table", show_default=True)
@click.pass_context
def query(ctx, query, store, fmt):
    """Run a SPARQL query given as text, a file path, or '-' for standard input."""
    from dpgkg.publish.sparql import QueryError, format_for_cli, run_query

    settings = _settings(ctx, store=store)
    text = sys.stdin.read() if query == "-" else (
        Path(query).read_text() if Path(query).is_file() else query)
    try:
        result = run_query(settings, text)
    except QueryError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.stdout.write(format_for_cli(result, fmt))


@main.command()
@click.option("--store", type=click.Path(), help="Store directory (or http(s) URL).")
@click.pass_context
def stats(ctx, store):
    """Counts of what the graph holds."""
    from dpgkg.publish.stats import graph_stats
    from dpgkg.store import open_store

    settings = _settings(ctx, store=store)
    click.echo(json.dumps(graph_stats(open_store(settings.store, settings=settings), settings), indent=2))


@main.command()
@click.option("--store", type=click.Path(), help="Store directory (or http(s) URL).")
@click.option("--sources", type=click.Path(file_okay=False),
              help="Where to build from if there is no graph yet.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--timeout", "query_timeout", type=float, help="SPARQL query timeout, seconds.")
@click.pass_context
def serve(ctx, store, sources, host, port, workers, query_timeout):
    """Serve the graph (SPARQL, linked data, site) under Granian; builds first if needed."""
    from dpgkg.web.server import serve as run_server

    settings = _settings(ctx, store=store, sources=sources, query_timeout=query_timeout)
    run_server(settings, host=host, port=port, workers=workers, debug=_debug())


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle", "json-ld"]),
              default="text", show_default=True,
              help="text report, JSON summary (one object per line for several inputs), "
                   "or the SHACL report graph.")
@click.option("--registry", "whole_registry", is_flag=True,
              help="Validate the whole registry (from --sources) and print a table per "
                   "indicator.")
@click.option("--sources", type=click.Path(file_okay=False),
              help="Directory laid out like ../shared: registry schemas, SDG KOS, licences.")
@click.pass_context
def validate(ctx, paths, fmt, whole_registry, sources):
    """Validate records against the DPG Standard: PATH|URL of registry JSON, JSON-LD,
    Turtle, or a directory. Exit 0 conforms, 1 does not, 2 an input could not be read."""
    from dpgkg import validation as v

    settings = _settings(ctx, sources=sources)
    if not paths and not whole_registry:
        click.echo("error: give a PATH or URL to validate, or --registry", err=True)
        sys.exit(2)
    try:
        outcomes = []
        if whole_registry:
            outcomes += v.validate_registry(None, settings)
        if paths:
            outcomes += v.validate_paths(paths, settings,
                                         keep_report=fmt in ("turtle", "json-ld"))
    except v.InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except USER_ERRORS:
        raise  # one line and exit 2, by the group
    except Exception as exc:  # not a verdict: exit 2, never 1 ("does not conform")
        if _debug():
            raise
        click.echo(f"error: validation could not run: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    for o in outcomes:
        if o.error is not None:
            click.echo(f"error: {o.error}", err=True)
    several = len(outcomes) > 1 or whole_registry
    if fmt == "json":
        for o in outcomes:
            click.echo(json.dumps(o.summary(with_source=several), ensure_ascii=False))
    elif fmt in ("turtle", "json-ld"):
        report = v.Outcome(source="", report=v.merged_report(outcomes))
        click.echo(report.report_text(fmt), nl=False)
    elif whole_registry:
        click.echo(v.registry_table(outcomes), nl=False)
        if paths:
            click.echo(v.text_report([o for o in outcomes[-len(paths):]]), nl=False)
    else:
        click.echo(v.text_report(outcomes), nl=False)
    if any(o.error is not None for o in outcomes):
        sys.exit(2)
    sys.exit(0 if all(o.conforms for o in outcomes) else 1)


if __name__ == "__main__":
    main()
