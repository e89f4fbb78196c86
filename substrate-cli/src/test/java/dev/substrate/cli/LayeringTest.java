package dev.substrate.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering the root pom describes, checked on the classes of every module (this module depends on all of them):
 * only the streams module touches Kafka Streams, only the API the HTTP framework; no module reaches into another's
 * {@code internal} packages; the top-level packages form no cycle. Each rule names what breaks it.
 */
class LayeringTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // Every module's main classes: from the reactor's classes directories or from their jars alike.
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.substrate");
    }

    /** The module a package belongs to, by the prefixes the modules own; everything else is core's. */
    static String moduleOf(String packageName) {
        for (String module : List.of(
                "dev.substrate.streams",
                "dev.substrate.api",
                "dev.substrate.cli",
                "dev.substrate.local",
                "dev.substrate.kafka.embedded",
                "dev.substrate.testing",
                "dev.substrate.schemas")) {
            if (packageName.equals(module) || packageName.startsWith(module + ".")) {
                return module;
            }
        }
        return "dev.substrate (core)";
    }

    private static boolean isInternal(String packageName) {
        return packageName.contains(".internal");
    }

    @Test
    void onlyTheStreamsModuleUsesKafkaStreams() {
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.substrate.streams..", "dev.substrate.testing..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.apache.kafka.streams..")
                .because("the fold is the one Kafka Streams application; the rest asks it through its public API")
                .check(classes);
    }

    @Test
    void onlyTheApiModuleUsesTheHttpFramework() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.substrate.api..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.javalin..", "org.eclipse.jetty..")
                .because("the HTTP API is one module; the CLI calls it over HTTP like any client")
                .check(classes);
    }

    @Test
    void noModuleReachesIntoAnothersInternalPackages() {
        noClasses()
                .should(dependOnAnotherModulesInternals())
                .because("an internal package is its module's own; what another module needs is public API")
                .check(classes);
    }

    @Test
    void theTopLevelPackagesFormNoCycle() {
        slices().matching("dev.substrate.(*)..")
                .should()
                .beFreeOfCycles()
                .because("a cycle between feature packages means neither can be read or changed alone")
                .check(classes);
    }

    private static ArchCondition<JavaClass> dependOnAnotherModulesInternals() {
        return new ArchCondition<>("depend on another module's internal package") {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                String from = moduleOf(origin.getPackageName());
                for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
                    String target = dependency.getTargetClass().getPackageName();
                    if (target.startsWith("dev.substrate")
                            && isInternal(target)
                            && !moduleOf(target).equals(from)) {
                        events.add(SimpleConditionEvent.satisfied(dependency, dependency.getDescription()));
                    }
                }
            }
        };
    }
}
