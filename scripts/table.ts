/** Plain-text tables for the operator commands: left-aligned columns, two spaces apart. */

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
    const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
    const line = (cells: readonly string[]) =>
        cells
            .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
            .join("  ")
            .trimEnd();
    return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** `2026-05-13T10:00:00.000Z` -> `2026-05-13 10:00Z`: minutes are enough for a person. */
export function shortTime(iso: string | undefined): string {
    if (iso === undefined) {
        return "-";
    }
    const parsed = new Date(iso);
    return Number.isNaN(parsed.getTime()) ? iso : `${parsed.toISOString().slice(0, 16).replace("T", " ")}Z`;
}
