package dev.substrate.cli;

import picocli.CommandLine.IVersionProvider;

/** The version recorded in the jar's manifest at build time. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = SubstrateCli.class.getPackage().getImplementationVersion();
        return new String[] {
            "substrate " + (version == null ? "(development build)" : version),
            "JVM " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        };
    }
}
