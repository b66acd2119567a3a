package io.jcircuit.cli.console;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Headless Chromium for the console's browser test: Debian's {@code /usr/bin/chromium} driven by its
 * {@code /usr/bin/chromedriver}, both named by path, so Selenium Manager never looks for or downloads
 * anything. Without them the test is skipped with a note on how to install them.
 */
record Browser(ChromeDriver driver) implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    /** Starts a browser with a fresh profile in {@code profileDir}; skips the test when there is no browser. */
    static Browser start(Path profileDir) {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
            "browser test skipped: " + CHROMIUM + " or " + CHROMEDRIVER + " is missing; install them with "
                + "'apt-get install chromium chromium-driver' (.ci/run does so when it runs as root)");
        ChromeDriverService service = new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1400,1000", "--force-device-scale-factor=1",
            "--user-data-dir=" + profileDir.toAbsolutePath());
        return new Browser(new ChromeDriver(service, options));
    }

    @Override
    public void close() {
        driver.quit();
    }
}
