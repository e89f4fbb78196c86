package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator console in a real browser: headless Chromium (Debian's {@code chromium} and {@code
 * chromium-driver}) against a running substrate. It signs in with {@code /#token=}, sees a run created through
 * the API, follows it to its session room, watches streamed text appear and keep coming after the connection
 * drops (the browser talks to the API through a TCP proxy that can cut every connection), and downloads an
 * artifact's bytes. Screenshots of each page go to {@code target/console-screenshots}
 * (the ones in {@code docs/console/} come from here). Skipped, saying why, where Chromium is not installed.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class ConsoleIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    @TempDir
    static Path dataDir;

    @TempDir
    static Path downloads;

    private static ApiInstance instance;
    private static DroppingProxy proxy;
    private static String token;
    private static WebDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Chromium is not installed (apt-get install chromium chromium-driver); the console's browser test"
                        + " needs it");
        TokenFile tokens = new TokenFile(dataDir.resolve("tokens.json"));
        token = tokens.create("ops", Set.of(Role.ADMIN));
        instance = ApiInstance.startReady(kafka, "console", dataDir, tokens);

        proxy = DroppingProxy.start(instance.api.port());

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900");
        options.setExperimentalOption(
                "prefs",
                Map.of("download.default_directory", downloads.toString(), "download.prompt_for_download", false));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (instance != null) {
            instance.close();
        }
    }

    @Test
    void followsARunToItsRoomAndWatchesTextStreamIn() throws Exception {
        String roomId = created(
                post(
                        "/v1/rooms?wait=applied",
                        "{\"kind\": \"session\", \"project\": \"project:console\", \"title\": \"deploy web\", \"members\": []}"),
                "roomId");
        String runId = created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"scope\": \"shared\", \"project\": \"project:console\", \"sessionRoomId\": \"" + roomId
                                + "\","
                                + " \"labels\": {\"team\": \"web\"}, \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}"),
                "runId");
        appendApplied("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}");
        appendApplied(
                "/v1/runs/" + runId + "/events",
                "{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"approval\", \"detail\": \"deploy to prod\","
                        + " \"since\": \"2026-11-21T09:00:00Z\"}}");
        String childId = created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"scope\": \"shared\", \"project\": \"project:console\", \"parentRunId\": \"" + runId + "\","
                                + " \"activation\": {\"surface\": \"operator\", \"actor\": \"ops\"}}"),
                "runId");

        // Signing in with #token= stores the token and takes it out of the address bar.
        signIn("/#token=" + token);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-run='" + runId + "']")));
        assertThat(browser.getCurrentUrl()).doesNotContain(token).doesNotContain("token=");
        assertThat(((ChromeDriver) browser).executeScript("return localStorage.getItem('substrate.token')"))
                .isEqualTo(token);
        List<String> listed = browser.findElements(By.cssSelector("tr[data-run]")).stream()
                .map(listedRow -> listedRow.getAttribute("data-run"))
                .toList();
        assertThat(listed).as("newest first").containsSubsequence(childId, runId);
        WebElement row = browser.findElement(By.cssSelector("tr[data-run='" + runId + "']"));
        assertThat(row.findElement(By.cssSelector(".badge")).getText()).isEqualTo("waiting");
        screenshot("runs");

        // Filtering by status keeps the waiting run and drops the created child.
        new Select(browser.findElement(By.cssSelector("#run-filters select[name=status]"))).selectByValue("waiting");
        browser.findElement(By.cssSelector("#run-filters button")).click();
        wait.until(ExpectedConditions.urlContains("status=waiting"));
        wait.until(driver -> driver.findElements(By.cssSelector("tr[data-run='" + childId + "']"))
                .isEmpty());
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-run='" + runId + "']")));

        // The run's page: timeline with actor, what it waits on, its child, its room.
        row = browser.findElement(By.cssSelector("tr[data-run='" + runId + "']"));
        row.findElement(By.linkText(runId)).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("waiting-on")));
        assertThat(browser.findElement(By.id("waiting-on")).getText())
                .contains("approval")
                .contains("deploy to prod");
        List<String> timeline = browser.findElements(By.cssSelector("tr.timeline-entry")).stream()
                .map(entry -> entry.getAttribute("data-type"))
                .toList();
        assertThat(timeline).containsExactly("RunCreated", "RunStarted", "RunWaiting");
        assertThat(browser.findElement(By.cssSelector("tr.timeline-entry")).getText())
                .contains("ops");
        assertThat(browser.findElements(By.cssSelector("#children tbody tr"))).hasSize(1);
        assertThat(browser.findElement(By.id("children")).getText()).contains(childId);
        screenshot("run");

        // Its session room, streaming live.
        browser.findElements(By.linkText(roomId)).get(0).click();
        wait.until(ExpectedConditions.textToBe(By.id("stream-state"), "live"));
        append(roomId, "{\"type\": \"StatusChanged\", \"status\": \"ready\", \"message\": \"container up\"}");
        append(roomId, "{\"type\": \"TurnStarted\", \"turnId\": \"t1\", \"participant\": \"agent\"}");
        append(roomId, "{\"type\": \"BlockStarted\", \"blockId\": \"b1\", \"turnId\": \"t1\", \"kind\": \"text\"}");
        append(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"Deploying\"}");
        By block = By.cssSelector("[data-block='b1']");
        wait.until(ExpectedConditions.textToBe(block, "Deploying"));
        append(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \" web to prod\"}");
        wait.until(ExpectedConditions.textToBe(block, "Deploying web to prod"));
        assertThat(browser.findElement(block).getAttribute("class")).contains("open");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("active-turn"), "t1"));
        assertThat(browser.findElement(By.id("environment")).getText()).contains("ready");

        // The connection drops; the page reconnects with Last-Event-ID and misses nothing.
        proxy.refuseAndDrop();
        wait.until(ExpectedConditions.textToBe(By.id("stream-state"), "reconnecting…"));
        append(roomId, "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \", step 2\"}");
        append(roomId, "{\"type\": \"LogEmitted\", \"level\": \"warn\", \"message\": \"disk at 91%\"}");
        append(
                roomId,
                "{\"type\": \"ErrorRaised\", \"code\": \"probe_failed\", \"message\": \"health check timed out\"}");
        proxy.accept();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("stream-state"), "resumed"));
        append(roomId, "{\"type\": \"BlockCompleted\", \"blockId\": \"b1\"}");
        append(roomId, "{\"type\": \"TurnEnded\", \"turnId\": \"t1\"}");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".error-event")));
        wait.until(driver -> !driver.findElement(block).getAttribute("class").contains("open"));
        assertThat(browser.findElement(block).getText()).isEqualTo("Deploying web to prod, step 2");
        assertThat(browser.findElement(By.cssSelector(".log.warn")).getText()).isEqualTo("[warn] disk at 91%");
        assertThat(browser.findElement(By.cssSelector(".error-event")).getText())
                .isEqualTo("error probe_failed: health check timed out");
        assertThat(browser.findElements(By.cssSelector("[data-turn='t1']"))).hasSize(1);
        assertThat(browser.findElement(By.cssSelector("[data-turn='t1']")).getText())
                .contains("Deploying web to prod, step 2")
                .contains("disk at 91%");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("active-turn"), "none"));
        screenshot("room");
    }

    @Test
    void listsArtifactsOfARunAndDownloadsTheirBytes() throws Exception {
        String runId = created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"scope\": \"shared\", \"project\": \"project:console\", \"activation\": {\"surface\": \"operator\","
                                + " \"actor\": \"ops\"}}"),
                "runId");
        String artifactId = created(
                post(
                        "/v1/artifacts?wait=applied",
                        "{\"kind\": \"build_log\", \"name\": \"build.log\", \"parentId\": \"project:console\","
                                + " \"provenance\": {\"runId\": \"" + runId + "\"}}"),
                "artifactId");
        HttpResponse<String> put = ApiCalls.HTTP.send(
                ApiCalls.request(instance.url() + "/v1/artifacts/" + artifactId + "/content?wait=applied", token)
                        .header("Content-Type", "text/plain")
                        .PUT(HttpRequest.BodyPublishers.ofString("step 1 ok\nstep 2 ok\n"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        signIn("/#token=" + token + "#/artifacts?by=runId&value=" + runId);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.linkText(artifactId)));
        browser.findElement(By.linkText(artifactId)).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("download")));
        assertThat(browser.findElement(By.tagName("main")).getText())
                .contains("build.log")
                .contains(runId)
                .contains("sha256:");
        screenshot("artifact");
        browser.findElement(By.id("download")).click();
        Path file = downloads.resolve("build.log");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && Files.size(file) > 0);
        assertThat(Files.readString(file)).isEqualTo("step 1 ok\nstep 2 ok\n");
    }

    @Test
    void pagesThroughRunsAndListsRooms() throws Exception {
        for (int i = 0; i < 30; i++) {
            created(
                    post(
                            "/v1/runs?wait=applied",
                            "{\"scope\": \"shared\", \"project\": \"project:paging\", \"activation\": {\"surface\":"
                                    + " \"operator\", \"actor\": \"ops\"}}"),
                    "runId");
        }
        String roomId = created(
                post(
                        "/v1/rooms?wait=applied",
                        "{\"kind\": \"conversation\", \"project\": \"project:paging\", \"members\": []}"),
                "roomId");

        signIn("/#token=" + token + "#/runs?project=project:paging");
        wait.until(driver -> driver.findElements(By.cssSelector("tr[data-run]")).size() == 25);
        browser.findElement(By.id("next-page")).click();
        wait.until(driver -> driver.findElements(By.cssSelector("tr[data-run]")).size() == 5);
        assertThat(browser.findElements(By.id("next-page"))).isEmpty();
        assertThat(browser.findElements(By.linkText("First page"))).hasSize(1);

        browser.findElement(By.linkText("Rooms")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.linkText(roomId)));
    }

    @Test
    void showsWhatARunCostAndUsageByModelWithAChart() throws Exception {
        String project = "project:console-usage-" + UUID.randomUUID().toString().substring(0, 8);
        String runId = created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"project\": \"" + project + "\", \"usage\": {\"provider\": \"openai\", \"model\":"
                                + " \"gpt-4o\", \"inputTokens\": 1200, \"outputTokens\": 300, \"cost\": {\"amount\":"
                                + " \"0.0105\", \"currency\": \"USD\"}}}"),
                "runId");
        created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"project\": \"" + project + "\", \"usage\": {\"model\": \"claude\", \"inputTokens\": 50,"
                                + " \"outputTokens\": 10}}"),
                "runId");

        created(
                post(
                        "/v1/runs?wait=applied",
                        "{\"project\": \"" + project + "\", \"parentRunId\": \"" + runId + "\", \"usage\": {\"model\":"
                                + " \"gpt-4o\", \"inputTokens\": 800, \"outputTokens\": 200, \"cost\": {\"amount\":"
                                + " \"0.0045\"}}}"),
                "runId");

        signIn("/#token=" + token + "#/runs/" + runId);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("run-cost"), "0.0105 USD"));
        // With its child run: both summed.
        assertThat(browser.findElement(By.id("tree-cost")).getText())
                .isEqualTo("2000 in / 500 out tokens · 0.015 USD over 2 runs");
        assertThat(browser.findElement(By.id("run-cost")).getText()).contains("1200 in / 300 out tokens");

        browser.get(proxy.url() + "/#/usage?groupBy=model&project=" + project);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-usage='gpt-4o']")));
        assertThat(browser.findElement(By.cssSelector("tr[data-usage='gpt-4o'] td.cost"))
                        .getText())
                .isEqualTo("0.015 USD");
        assertThat(browser.findElement(By.cssSelector("tr[data-usage='claude'] td.cost"))
                        .getText())
                .isEqualTo("—");
        assertThat(browser.findElement(By.cssSelector("tr[data-usage='(total)']"))
                        .getText())
                .contains("2050");
        // The chart: one bar per model, the longer for more tokens.
        int gpt = browser.findElement(By.cssSelector(".bar-row[data-key='gpt-4o'] .bar"))
                .getSize()
                .getWidth();
        int claude = browser.findElement(By.cssSelector(".bar-row[data-key='claude'] .bar"))
                .getSize()
                .getWidth();
        assertThat(gpt).isGreaterThan(claude * 10);
        screenshot("usage");
    }

    @Test
    void anOperatorApprovesAWaitingRunAndAnObserverSeesNoButtons() throws Exception {
        // The defaults of HTTP creation: a project is enough, and a wait begins when it is recorded.
        String runId = created(post("/v1/runs?wait=applied", "{\"project\": \"project:approvals\"}"), "runId");
        appendApplied("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}");
        appendApplied(
                "/v1/runs/" + runId + "/events",
                "{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"approval\", \"detail\": \"ship it?\"}}");

        signIn("/#token=" + token + "#/runs?project=project:approvals");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector("#run-counts [data-count='waiting']"), "1"));
        assertThat(browser.findElement(By.cssSelector("#run-counts [data-count='total']"))
                        .getText())
                .isEqualTo("all 1");

        browser.get(proxy.url() + "/#/runs/" + runId);
        wait.until(ExpectedConditions.elementToBeClickable(By.id("approve")));
        assertThat(browser.findElements(By.id("cancel"))).hasSize(1);
        screenshot("run-actions");
        browser.findElement(By.id("approve")).click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("approve-outcome"), "Applied"));
        assertThat(browser.findElement(By.id("approve-outcome")).getText()).contains("now running");
        // The page reloads the run: running, and no Approve any more.
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("h1 [data-status='running']")));
        wait.until(driver -> driver.findElements(By.id("approve")).isEmpty());
        assertThat(browser.findElements(By.cssSelector("tr.timeline-entry[data-type='RunResumed']")))
                .hasSize(1);

        // The log says who approved: the event is the operator's own.
        JsonNode history = JSON.readTree(ApiCalls.get(instance.url() + "/v1/runs/" + runId + "/events", token)
                .body());
        JsonNode resumed = history.get("items").get(history.get("items").size() - 1);
        assertThat(resumed.path("payload").path("type").asText()).isEqualTo("RunResumed");
        assertThat(resumed.path("actor").asText()).isEqualTo("ops");
        assertThat(resumed.path("payload").path("detail").asText()).isEqualTo("approved by ops");

        // An observer reads the same kind of run and gets no buttons; cancelling it is for operators.
        String waitingId = created(post("/v1/runs?wait=applied", "{\"project\": \"project:approvals\"}"), "runId");
        appendApplied("/v1/runs/" + waitingId + "/events", "{\"type\": \"RunStarted\"}");
        appendApplied(
                "/v1/runs/" + waitingId + "/events",
                "{\"type\": \"RunWaiting\", \"waitingOn\": {\"kind\": \"approval\", \"detail\": \"again?\"}}");
        String observer = instance.mint("watcher", Role.OBSERVER);
        signIn("/#token=" + observer + "#/runs/" + waitingId);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("h1 [data-status='waiting']")));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("waiting-on")));
        assertThat(browser.findElements(By.id("run-actions"))).isEmpty();
        assertThat(browser.findElements(By.id("approve"))).isEmpty();
        assertThat(browser.findElements(By.id("cancel"))).isEmpty();
        signIn("/#token=" + token + "#/runs");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("run-filters")));
    }

    @Test
    void anOperatorAnswersARunsInterruptsThroughFormsMadeFromTheirSchemas() throws Exception {
        String runId = created(post("/v1/runs?wait=applied", "{\"project\": \"project:interrupts\"}"), "runId");
        appendApplied("/v1/runs/" + runId + "/events", "{\"type\": \"RunStarted\"}");
        appendApplied("/v1/runs/" + runId + "/events", """
                {"type": "RunWaiting", "waitingOn": {"kind": "approval", "detail": "deploy"},
                 "interrupts": [
                   {"interruptId": "deploy", "reason": "tool_approval", "message": "Deploy web to production?",
                    "toolCallId": "call-9",
                    "responseSchema": {"type": "object", "required": ["approved", "replicas"],
                      "properties": {"approved": {"type": "boolean"}, "replicas": {"type": "integer", "minimum": 1},
                                     "note": {"type": "string"}}}},
                   {"interruptId": "budget", "reason": "input", "message": "Raise the budget?"}]}""");

        signIn("/#token=" + token + "#/runs?interrupt=open&project=project:interrupts");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("[data-open-interrupts='2']")));
        browser.get(proxy.url() + "/#/runs/" + runId);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("interrupt-deploy")));
        assertThat(browser.findElements(By.id("approve")))
                .as("no blanket approval while interrupts are open")
                .isEmpty();
        WebElement deploy = browser.findElement(By.id("interrupt-deploy"));
        assertThat(deploy.getText()).contains("Deploy web to production?").contains("call-9");

        // A replica count the schema refuses: the server's reason is shown, nothing changes.
        deploy.findElement(By.name("approved")).click();
        deploy.findElement(By.name("replicas")).sendKeys("0");
        deploy.findElement(By.id("answer-deploy")).click();
        wait.until(ExpectedConditions.textToBePresentInElement(deploy, "Refused (invalid_answer)"));
        screenshot("run-interrupts");
        deploy.findElement(By.name("replicas")).clear();
        deploy.findElement(By.name("replicas")).sendKeys("3");
        deploy.findElement(By.id("answer-deploy")).click();
        wait.until(ExpectedConditions.textToBePresentInElement(deploy, "Answered: the run is now waiting"));

        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("cancel-budget")));
        wait.until(driver -> driver.findElements(By.id("interrupt-deploy")).isEmpty());
        browser.findElement(By.id("cancel-budget")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("h1 [data-status='running']")));
        assertThat(browser.findElements(By.cssSelector("tr[data-interrupt]"))).hasSize(2);

        JsonNode run = JSON.readTree(
                ApiCalls.get(instance.url() + "/v1/runs/" + runId, token).body());
        assertThat(run.path("interrupts").get(0).path("payload").toString())
                .isEqualTo("{\"approved\":true,\"replicas\":3}");
        assertThat(run.path("interrupts").get(0).path("answeredBy").asText()).isEqualTo("ops");
        assertThat(run.path("interrupts").get(1).path("status").asText()).isEqualTo("cancelled");
    }

    @Test
    void aLinksTokenReplacesAStoredOneOnlyWhenTheUserAgreesAndAQueryTokenIsNotTaken() {
        signIn("/#token=" + token + "#/runs");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("run-filters")));
        browser.get(proxy.url() + "/#token=sbt_someone_else#/runs");
        wait.until(ExpectedConditions.alertIsPresent()).dismiss();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("run-filters")));
        assertThat(((ChromeDriver) browser).executeScript("return localStorage.getItem('substrate.token')"))
                .isEqualTo(token);
        assertThat(browser.getCurrentUrl()).doesNotContain("sbt_");
        browser.get(proxy.url() + "/?token=sbt_in_the_query#/runs");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("run-filters")));
        assertThat(((ChromeDriver) browser).executeScript("return localStorage.getItem('substrate.token')"))
                .isEqualTo(token);
        assertThat(browser.getCurrentUrl()).doesNotContain("sbt_");
    }

    @Test
    void aBadTokenIsRefusedAndTheTokenFormAsksAgain() {
        signIn("/#token=sbt_not_a_token#/runs");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("token-form")));
        assertThat(browser.findElement(By.id("token-form")).getText()).contains("not valid");
        browser.findElement(By.id("token-input")).sendKeys(token);
        browser.findElement(By.cssSelector("#token-form button")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("run-filters")));
        assertThat(browser.getCurrentUrl()).doesNotContain("sbt_");
    }

    /** Opens {@code path} of the console; agrees when the page asks to replace the token it keeps. */
    private static void signIn(String path) {
        browser.get(proxy.url() + path);
        try {
            new org.openqa.selenium.support.ui.WebDriverWait(browser, java.time.Duration.ofSeconds(2))
                    .until(ExpectedConditions.alertIsPresent())
                    .accept();
        } catch (org.openqa.selenium.TimeoutException e) {
            // Nothing stored, or the same token: the page did not ask.
        }
    }

    private static void screenshot(String name) throws Exception {
        byte[] png = ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES);
        Files.write(SCREENSHOTS.resolve(name + ".png"), png);
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return ApiCalls.post(instance.url() + path, body, token);
    }

    private static String created(HttpResponse<String> answer, String field) throws Exception {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(answer.body());
        return body.get(field).asText();
    }

    private static void appendApplied(String path, String body) throws Exception {
        HttpResponse<String> answer = post(path + "?wait=applied", body);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    private static void append(String roomId, String body) throws Exception {
        HttpResponse<String> answer = post("/v1/rooms/" + roomId + "/events", body);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    }

    /**
     * A TCP proxy in front of the API that can cut every open connection and refuse new ones for a while, as a
     * network drop would.
     */
    static final class DroppingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();
        private volatile boolean refusing;

        private DroppingProxy(ServerSocket server, int target) {
            this.server = server;
            this.target = target;
        }

        static DroppingProxy start(int target) throws IOException {
            DroppingProxy proxy = new DroppingProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), target);
            Thread acceptor = new Thread(proxy::acceptLoop, "proxy-accept");
            acceptor.setDaemon(true);
            acceptor.start();
            return proxy;
        }

        String url() {
            return "http://localhost:" + server.getLocalPort();
        }

        /** Closes every open connection, and every new one at once, until {@link #accept()}. */
        void refuseAndDrop() throws IOException {
            refusing = true;
            for (Socket socket : open) {
                socket.close();
            }
            open.clear();
        }

        /** Lets connections through again. */
        void accept() {
            refusing = false;
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    if (refusing) {
                        client.close();
                        continue;
                    }
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    open.add(client);
                    open.add(upstream);
                    pipe(client, upstream);
                    pipe(upstream, client);
                } catch (IOException e) {
                    // Closed, or the API refused: the browser sees a failed connection.
                }
            }
        }

        private void pipe(Socket from, Socket to) {
            Thread thread = new Thread(
                    () -> {
                        try {
                            from.getInputStream().transferTo(to.getOutputStream());
                        } catch (IOException e) {
                            // One side closed.
                        } finally {
                            closeQuietly(from);
                            closeQuietly(to);
                            open.remove(from);
                            open.remove(to);
                        }
                    },
                    "proxy-pipe");
            thread.setDaemon(true);
            thread.start();
        }

        private static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // Already closed.
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            refuseAndDrop();
        }
    }
}
