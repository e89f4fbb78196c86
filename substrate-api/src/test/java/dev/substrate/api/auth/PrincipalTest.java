package dev.substrate.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PrincipalTest {

    private static Principal scoped(String... patterns) {
        return new Principal("svc", Set.of(Role.SERVICE), List.of(patterns));
    }

    @Test
    void anUnscopedPrincipalReachesEveryProjectAndNone() {
        Principal unscoped = new Principal("ops", Set.of(Role.OPERATOR));

        assertThat(unscoped.scoped()).isFalse();
        assertThat(unscoped.reaches("project:acme/web")).isTrue();
        assertThat(unscoped.reaches(null)).isTrue();
        assertThat(unscoped.covers(List.of())).isTrue();
    }

    @Test
    void aScopedPrincipalReachesTheProjectsItsPatternsMatchAndNothingWithoutAProject() {
        Principal acme = scoped("project:acme/*", "house:beta");

        assertThat(acme.reaches("project:acme/web")).isTrue();
        assertThat(acme.reaches("project:acme/web/deep")).isTrue();
        assertThat(acme.reaches("house:beta")).isTrue();
        assertThat(acme.reaches("project:acme"))
                .as("the pattern needs the slash")
                .isFalse();
        assertThat(acme.reaches("project:acmecorp/web")).isFalse();
        assertThat(acme.reaches("house:beta2")).isFalse();
        assertThat(acme.reaches(null)).isFalse();
        assertThat(acme.reaches("")).isFalse();
        assertThat(scoped("project:*/web").reaches("project:acme/web")).isTrue();
        assertThat(scoped("project:*/web").reaches("project:acme/api")).isFalse();
    }

    @Test
    void aScopedPrincipalCoversOnlyPatternsInsideItsOwn() {
        Principal acme = scoped("project:acme/*");

        assertThat(acme.covers(List.of("project:acme/web"))).isTrue();
        assertThat(acme.covers(List.of("project:acme/web/*"))).isTrue();
        assertThat(acme.covers(List.of("project:acme/*"))).isTrue();
        assertThat(acme.covers(List.of("project:*"))).isFalse();
        assertThat(acme.covers(List.of("project:acme/web", "project:beta/web"))).isFalse();
        assertThat(acme.covers(List.of()))
                .as("an unscoped token is outside every scope")
                .isFalse();
    }

    @Test
    void refusesMalformedPatternsAndTooManyOfThem() {
        assertThatThrownBy(() -> scoped("has space")).hasMessageContaining("project pattern");
        assertThatThrownBy(() -> scoped("a,b")).hasMessageContaining("project pattern");
        assertThatThrownBy(() -> scoped("a;b")).hasMessageContaining("project pattern");
        assertThatThrownBy(() -> scoped("")).hasMessageContaining("project pattern");
        assertThatThrownBy(() -> scoped("x".repeat(201))).hasMessageContaining("project pattern");
        String[] many = new String[Principal.MAX_PROJECTS + 1];
        java.util.Arrays.fill(many, "project:a");
        assertThatThrownBy(() -> scoped(many)).hasMessageContaining("at most");
    }
}
