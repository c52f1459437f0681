"""Thin click commands over plain functions."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from dpgkg.config import Settings


def _settings(ctx: click.Context, **overrides) -> Settings:
    return ctx.obj.with_(**overrides)


@click.group()
@click.option("--base-iri", envvar="DPGKG_BASE_IRI", help="Base of minted IRIs.")
@click.pass_context
def main(ctx: click.Context, base_iri: str | None) -> None:
    """dpgkg: the Digital Public Goods knowledge graph."""
    ctx.obj = Settings.from_env(base_iri=base_iri)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@main.command()
@click.option("--sources", type=click.Path(file_okay=False),
              help="Directory laid out like ../shared (default: $DPGKG_SOURCES or public sources).")
@click.option("--store", type=click.Path(), help="Store directory (or http(s) URL).")
@click.option("--no-validate", is_flag=True, help="Skip validating records against the shapes.")
@click.option("--no-dumps", is_flag=True,
              help="Skip writing dumps, VoID counts and the change feed (a quick rebuild).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.pass_context
def build(ctx, sources, store, no_validate, no_dumps, quiet):
    """Harvest the sources, infer, validate and swap the new graph in."""
    from dpgkg.build import build as run_build

    settings = _settings(ctx, sources=sources, store=store)
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
                           validate=not no_validate, publish=not no_dumps)
    except KeyboardInterrupt:
        click.echo("build interrupted: nothing was swapped in; "
                   "the previous graph (if any) is still in place", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 -- a failed build says why, keeps the old graph
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
    run_server(settings, host=host, port=port, workers=workers)


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
