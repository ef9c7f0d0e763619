"""Executes every notebook in this folder top to bottom, headless, as an analyst's
"Run all" would, and fails on the first cell error. Notebooks are kept without
outputs: one committed with outputs is refused (`--strip` removes them in place).

    python3 notebooks/run_all.py                  # what the test suite runs
    python3 notebooks/run_all.py --html DIR       # also writes each executed notebook as HTML
    python3 notebooks/run_all.py --strip          # remove outputs before committing

Needs notebooks/requirements.txt. The leadscore binary: see leadscore_nb.py.
"""

import argparse
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent


def outputs_of(notebook) -> list:
    """The code cells that carry outputs or an execution count, by number."""
    return [
        i
        for i, cell in enumerate(notebook.cells, 1)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def strip(notebook) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=pathlib.Path, help="write each executed notebook here as HTML")
    parser.add_argument("--strip", action="store_true", help="remove outputs in place and stop")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    parser.add_argument("only", nargs="*", help="notebook names to run (default: all)")
    args = parser.parse_args()
    paths = sorted(HERE.glob("*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.name in args.only or p.stem in args.only]
    if not paths:
        print("no notebooks to run", file=sys.stderr)
        return 1
    if args.strip:
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            strip(notebook)
            nbformat.write(notebook, path)
        return 0
    failed = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        carried = outputs_of(notebook)
        if carried:
            failed.append(path.name)
            print(f"{path.name}: committed with outputs in cells {carried}; run `python3 notebooks/run_all.py --strip`", file=sys.stderr)
            continue
        start = time.perf_counter()
        client = NotebookClient(
            notebook,
            timeout=args.timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(HERE)}},
        )
        try:
            client.execute()
        except Exception as error:  # CellExecutionError, timeouts, a dead kernel
            failed.append(path.name)
            print(f"{path.name}: FAILED\n{error}", file=sys.stderr)
            continue
        print(f"{path.name}: ran in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        if args.html:
            from nbconvert import HTMLExporter

            args.html.mkdir(parents=True, exist_ok=True)
            body, _ = HTMLExporter().from_notebook_node(notebook)
            (args.html / f"{path.stem}.html").write_text(body)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
