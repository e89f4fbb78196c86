package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A plain text table: a header, then one row per item, columns padded to their widest cell. */
class Table {

    private static final int MAX_CELL = 60;

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = List.of(headers);
    }

    /** Adds a row of cells, one per header. */
    void row(String... cells) {
        rows.add(List.of(cells));
    }

    /** A table of {@code items}, each column taken from an item by its function. */
    @SafeVarargs
    static Table of(Iterable<JsonNode> items, List<String> headers, Function<JsonNode, String>... columns) {
        Table table = new Table(headers.toArray(String[]::new));
        for (JsonNode item : items) {
            List<String> row = new ArrayList<>();
            for (Function<JsonNode, String> column : columns) {
                row.add(column.apply(item));
            }
            table.rows.add(row);
        }
        return table;
    }

    /** A table of runs, as the API writes them: id, status, project, version, last update. */
    static Table runs(Iterable<JsonNode> runs) {
        return of(
                runs,
                List.of("RUN ID", "STATUS", "PROJECT", "VERSION", "UPDATED"),
                run -> run.get("runId").asText(),
                run -> run.get("status").asText(),
                run -> run.get("project").asText(),
                run -> run.get("version").asText(),
                run -> run.path("timestamps").path("updatedAt").asText());
    }

    /** One line of text, no header: what an action prints. */
    static Table line(String text) {
        return new Table(text) {
            @Override
            String render() {
                return text + System.lineSeparator();
            }
        };
    }

    /** A two-column table of a record's fields: name and value. */
    static Table fields(JsonNode record) {
        Table table = new Table("FIELD", "VALUE");
        record.properties().forEach(field -> table.rows.add(List.of(field.getKey(), text(field.getValue()))));
        return table;
    }

    /** The text of a JSON value: strings as they are, null as "-", anything else as compact JSON. */
    static String text(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return "-";
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    String render() {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = headers.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.min(MAX_CELL, Math.max(widths[i], row.get(i).length()));
            }
        }
        StringBuilder out = new StringBuilder();
        line(out, headers, widths);
        rows.forEach(row -> line(out, row, widths));
        return out.toString();
    }

    private static void line(StringBuilder out, List<String> cells, int[] widths) {
        for (int i = 0; i < cells.size(); i++) {
            String cell = cells.get(i).replace('\n', ' ');
            if (cell.length() > MAX_CELL) {
                cell = cell.substring(0, MAX_CELL - 3) + "...";
            }
            out.append(cell);
            if (i < cells.size() - 1) {
                out.append(" ".repeat(widths[i] - cell.length() + 2));
            }
        }
        out.append(System.lineSeparator());
    }
}
