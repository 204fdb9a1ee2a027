"""An import-linter contract type: no module of the root package imports itself through others.

import-linter's own ``acyclic_siblings`` squashes each package's children and so misses a cycle
through a package's ``__init__`` (``govservice`` <-> ``govservice.app.views``), and at the top
level it would count the layers contract's named exceptions as cycles of packages. This one looks
at modules, counting imports inside functions (grimp's graph has them): every strongly connected
group of two or more modules is a cycle, printed with the imports (and lines) that close it.
Registered in ``pyproject.toml`` (``contract_types``); ``lint-imports`` runs it in ``make lint``.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck


def cycles(graph: ImportGraph) -> list[list[str]]:
    """The groups of modules that import one another, each sorted (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


class AcyclicModulesContract(Contract):
    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        found = cycles(graph)
        edges = [
            [
                (
                    importer,
                    imported,
                    sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)),
                )
                for importer in group
                for imported in sorted(graph.find_modules_directly_imported_by(importer))
                if imported in group
            ]
            for group in found
        ]
        return ContractCheck(kept=not found, metadata={"edges": edges})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for group in check.metadata["edges"]:
            output.print_error("These modules import one another:")
            for importer, imported, lines in group:
                output.print_error(f"- {importer} -> {imported} (l. {', '.join(map(str, lines))})")
            output.new_line()
