package dev.substrate.cli.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The CLI's help, wrapped to the terminal at spaces only. Picocli's own wrapping breaks lines wherever the JDK's
 * line breaker allows, which includes inside {@code security.protocol}, {@code ./.substrate/local.db} and URLs: a
 * reader copying such a value from the help would copy it broken. Here every text (descriptions, footers, option
 * and command lists) is cut only at a space; a single word longer than its column is left whole. Each element of a
 * command's {@code description} or {@code footer} is a paragraph; leading spaces are kept (examples stay indented,
 * and their continuation lines line up under them).
 */
public final class WrappedHelp extends Help {

    /** A width no synopsis reaches, to have picocli lay one out on a single line. */
    private static final int UNBOUNDED = 100_000;

    private WrappedHelp(CommandSpec spec, ColorScheme colorScheme) {
        super(spec, colorScheme);
    }

    /** Makes every command of {@code cli} (and its subcommands) render help this way, to the terminal's width. */
    public static void install(CommandLine cli) {
        cli.setHelpFactory(WrappedHelp::new);
        cli.setUsageHelpAutoWidth(true);
    }

    @Override
    public Layout createDefaultLayout(
            List<OptionSpec> options, List<PositionalParamSpec> positionals, ColorScheme colorScheme) {
        Layout layout = super.createDefaultLayout(options, positionals, colorScheme);
        return new Layout(colorScheme, new SpaceWrappedTable(colorScheme, layout.textTable()));
    }

    /** The table of the exit codes: picocli's columns, its rows put again through the wrapping table. */
    @Override
    public TextTable createTextTable(Map<?, ?> map) {
        TextTable filled = new SpaceWrappedTable(colorScheme(), super.createTextTable(map));
        map.forEach((key, value) ->
                filled.addRowValues(String.format(String.valueOf(key)), String.format(String.valueOf(value))));
        return filled;
    }

    /** The list of subcommands, each with the first line of its description (its summary). */
    @Override
    public String commandList(Map<String, Help> subcommands) {
        if (subcommands.isEmpty()) {
            return "";
        }
        int width = commandSpec().usageMessage().width();
        int names = Math.min(
                subcommands.keySet().stream().mapToInt(String::length).max().orElse(0), width / 3);
        TextTable table = new SpaceWrappedTable(
                colorScheme(),
                TextTable.forColumns(
                        colorScheme(),
                        new Column(names + 4, 2, Column.Overflow.SPAN),
                        new Column(width - (names + 4), 2, Column.Overflow.WRAP)));
        subcommands.forEach((name, help) -> {
            UsageMessageSpec usage = help.commandSpec().usageMessage();
            String[] summary = usage.header().length > 0 ? usage.header() : usage.description();
            table.addRowValues(name, summary.length > 0 ? String.format(summary[0]) : "");
        });
        return table.toString();
    }

    @Override
    public String description(Object... params) {
        return paragraphs(commandSpec().usageMessage().description(), params);
    }

    @Override
    public String footer(Object... params) {
        return paragraphs(commandSpec().usageMessage().footer(), params);
    }

    @Override
    public String header(Object... params) {
        return paragraphs(commandSpec().usageMessage().header(), params);
    }

    /**
     * The synopsis, rendered on one line by picocli and then wrapped here at spaces, continuation lines under the
     * first option (as picocli lays it out).
     */
    @Override
    public String synopsis(int synopsisHeadingLength) {
        UsageMessageSpec usage = commandSpec().usageMessage();
        int width = usage.width();
        boolean autoWidth = usage.autoWidth();
        String oneLine;
        try {
            usage.autoWidth(false);
            usage.width(UNBOUNDED);
            oneLine = super.synopsis(synopsisHeadingLength).strip();
        } finally {
            usage.width(width);
            usage.autoWidth(autoWidth);
        }
        int indent = synopsisHeadingLength + commandSpec().qualifiedName().length() + 1;
        StringBuilder out = new StringBuilder();
        List<String> lines = wrap(oneLine, width - synopsisHeadingLength);
        out.append(lines.get(0)).append(System.lineSeparator());
        String rest = String.join(" ", lines.subList(1, lines.size()));
        if (!rest.isEmpty()) {
            for (String line : wrap(rest, width - indent)) {
                out.append(" ".repeat(indent)).append(line).append(System.lineSeparator());
            }
        }
        return out.toString();
    }

    private String paragraphs(String[] paragraphs, Object... params) {
        StringBuilder out = new StringBuilder();
        int width = commandSpec().usageMessage().width();
        for (String paragraph : paragraphs) {
            String formatted = String.format(paragraph, params);
            for (String line : formatted.split("\n", -1)) {
                if (line.length() <= width) {
                    out.append(line.stripTrailing()).append(System.lineSeparator()); // kept as written
                    continue;
                }
                int indent = leadingSpaces(line);
                for (String wrapped : wrap(line.substring(indent), width - indent)) {
                    out.append(" ".repeat(indent)).append(wrapped).append(System.lineSeparator());
                }
            }
        }
        return out.toString();
    }

    /** {@code text} cut at spaces into lines of at most {@code width} characters (a longer word keeps its line). */
    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.strip().split(" +")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    private static int leadingSpaces(String line) {
        int spaces = 0;
        while (spaces < line.length() && line.charAt(spaces) == ' ') {
            spaces++;
        }
        return spaces;
    }

    /** A table whose wrapping columns are filled a line at a time, each line cut at spaces. */
    private static final class SpaceWrappedTable extends TextTable {

        private final ColorScheme colorScheme;

        SpaceWrappedTable(ColorScheme colorScheme, TextTable like) {
            super(colorScheme, like.columns());
            this.colorScheme = colorScheme;
            this.indentWrappedLines = like.indentWrappedLines;
            setAdjustLineBreaksForWideCJKCharacters(like.isAdjustLineBreaksForWideCJKCharacters());
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            Column column = columns()[col];
            if (column.overflow != Column.Overflow.WRAP || value == null) {
                return super.putValue(row, col, value);
            }
            int width = column.width - column.indent - 1;
            List<String> lines = new ArrayList<>();
            for (String given : value.plainString().split("\n", -1)) {
                List<String> wrapped = wrap(given, width - (lines.isEmpty() ? 0 : indentWrappedLines));
                for (String line : wrapped) {
                    lines.add(lines.isEmpty() ? line : " ".repeat(indentWrappedLines) + line);
                }
            }
            // A word longer than the column is the one thing left to picocli's breaking (the help test forbids it).
            Cell cell = null;
            int next = row;
            for (String line : lines) {
                while (rowCount() <= next) {
                    addEmptyRow();
                }
                cell = super.putValue(next, col, colorScheme.text(line));
                next = cell.row + 1;
            }
            return cell;
        }
    }
}
