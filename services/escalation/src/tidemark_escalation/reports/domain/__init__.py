"""The SLA report's pure core: obligations folded from sla.* events, and the arithmetic of
attainment (docs/sla.md, "SLA attainment"). No I/O: covered by the import contract."""
