package io.jcircuit.cli.console;

import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.Rectangle;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the browser test does on the page, step by step. */
final class BrowserChecks {

    /** The fill of a worker node ({@code .role-worker .node} in console.css). */
    private static final int WORKER_BLUE = 0x2e7dd7;
    /** The stroke of a flow with calls ({@code .flow path}). */
    private static final int FLOW_ORANGE = 0xe07b00;

    private BrowserChecks() {
    }

    static void drawsTheCircuitAndItsStackAndFlameGraph(ChromeDriver driver, ConsoleServer console,
                                                       ConsoleServerTest.TwoWorkers workers) throws Exception {
        driver.get(console.uri().toString());
        // the page redraws the graph at every refresh: an element found may be replaced before it is read
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        String caller = "[data-worker='" + workers.caller() + "']";
        String callee = "[data-worker='" + workers.callee() + "']";
        String flow = ".flow[data-from='" + workers.caller() + "'][data-to='" + workers.callee() + "']";

        wait.until(d -> !d.findElements(By.cssSelector(caller)).isEmpty() && !d.findElements(By.cssSelector(callee)).isEmpty());
        wait.until(d -> d.findElements(By.cssSelector(flow)).stream()
            .anyMatch(f -> Double.parseDouble(f.getDomAttribute("data-calls-per-sec")) > 0));
        assertThat(driver.findElements(By.cssSelector("[data-host='host-1'], [data-host='host-2']"))).hasSize(2);
        String label = wait.until(d -> d.findElement(By.cssSelector("#labels-layer text[data-from='" + workers.caller()
            + "'][data-to='" + workers.callee() + "']")).getText());
        assertThat(label).contains("calls/s").contains("KiB/s").contains(" ms");
        String anchor = wait.until(d -> d.findElement(By.cssSelector("[data-anchor='/console/callee']")).getText());
        assertThat(anchor).contains(workers.callee());

        assertGraphRendered(driver);

        wait.until(d -> {
            d.findElement(By.cssSelector(caller)).click();
            return true;
        });
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("worker-panel")));
        assertThat(driver.findElement(By.id("worker-id")).getText()).isEqualTo(workers.caller());
        driver.findElement(By.id("stack-button")).click();
        WebElement stack = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("stack")));
        wait.until(d -> stack.getText().contains("caller-loop"));
        assertThat(stack.getText()).contains("Thread").contains("caller-loop");

        showsAFlameGraph(driver, wait);
    }

    /** The screenshot has the worker nodes' blue and the flow's orange inside the SVG's box. */
    private static void assertGraphRendered(WebDriver driver) throws Exception {
        byte[] png = ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES);
        BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
        Rectangle svg = driver.findElement(By.id("graph")).getRect();
        int blue = 0;
        int orange = 0;
        for (int y = Math.max(0, svg.getY()); y < Math.min(shot.getHeight(), svg.getY() + svg.getHeight()); y++) {
            for (int x = Math.max(0, svg.getX()); x < Math.min(shot.getWidth(), svg.getX() + svg.getWidth()); x++) {
                int rgb = shot.getRGB(x, y) & 0xffffff;
                blue += near(rgb, WORKER_BLUE) ? 1 : 0;
                orange += near(rgb, FLOW_ORANGE) ? 1 : 0;
            }
        }
        // two worker nodes of 200 x 54 px, less their text; an arrow of at least a few dozen pixels
        assertThat(blue).as("pixels of the worker nodes' blue in the graph").isGreaterThan(2 * 6_000);
        assertThat(orange).as("pixels of the flow's orange in the graph").isGreaterThan(50);
    }

    private static boolean near(int rgb, int want) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs(((rgb >> shift) & 0xff) - ((want >> shift) & 0xff)) > 8) {
                return false;
            }
        }
        return true;
    }

    /** A one-second CPU profile of the selected worker, shown in the frame. */
    private static void showsAFlameGraph(ChromeDriver driver, WebDriverWait wait) {
        WebElement seconds = driver.findElement(By.id("flame-seconds"));
        seconds.clear();
        seconds.sendKeys("0");
        driver.findElement(By.id("flame-button")).click();
        // before: the frame showed the console's JSON error, and the message said "flame graph of"
        wait.until(d -> d.findElement(By.id("worker-message")).getText().equals("give a whole number of seconds from 1 to 60"));
        assertThat(driver.findElement(By.id("flame")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("flame-link")).isDisplayed()).as("no flame graph taken yet").isFalse();
        seconds.clear();
        seconds.sendKeys("1");
        driver.findElement(By.id("flame-button")).click();
        wait.until(d -> d.findElement(By.id("worker-message")).getText().startsWith("flame graph of"));
        assertThat(driver.findElement(By.id("flame-link")).getDomProperty("href")).endsWith("/last-flame");
        driver.switchTo().frame("flame");
        try {
            String html = driver.getPageSource();
            assertThat(html).doesNotContain("\"error\":").hasSizeGreaterThan(1_000);
            List<WebElement> drawn = driver.findElements(By.cssSelector("canvas, svg"));
            assertThat(drawn).as("the flame graph draws on a canvas or an svg").isNotEmpty();
        } finally {
            driver.switchTo().defaultContent();
        }
    }
}
