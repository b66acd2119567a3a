package io.jcircuit.runtime.ops;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders {@link CollapsedStacks} as one self-contained HTML page: a flame graph drawn on a
 * canvas by inline script, with no external scripts, styles or fonts, so the file can be mailed,
 * attached to a ticket or opened offline. Async-profiler writes its own HTML; this class draws the
 * graphs of the JFR engine, and of any collapsed stacks the ops service holds.
 *
 * <p>The root is at the bottom and each frame sits on its caller. Hovering over a frame shows its
 * name, weight and share of the total; clicking zooms into it, and clicking the root or
 * "Reset zoom" zooms out.
 *
 * <p>The page embeds the stacks as a tree of indices into a table of frame names, so a name that
 * appears in many stacks is written once. Names are escaped for a script context; a frame named
 * {@code </script>} cannot end the script early.
 */
public final class FlameGraphHtml {

    private FlameGraphHtml() {
    }

    /**
     * Renders the page.
     *
     * @param title  the heading and the page title, for example
     *               "JCircuit flame graph: cpu · jfr · 2.0 s · 187 samples"
     * @param unit   what a frame's weight counts: "samples", "bytes" or "ns"
     * @param stacks the stacks to draw; when empty the page says that no samples were collected
     * @return the whole HTML document
     */
    public static String render(String title, String unit, CollapsedStacks stacks) {
        Node root = tree(stacks);
        List<String> names = new ArrayList<>();
        Map<String, Integer> nameIndex = new HashMap<>();
        StringBuilder data = new StringBuilder();
        root.writeJs(data, names, nameIndex);

        StringBuilder namesJs = new StringBuilder("[");
        for (int i = 0; i < names.size(); i++) {
            namesJs.append(i == 0 ? "" : ",").append(jsString(names.get(i)));
        }
        namesJs.append(']');

        String subtitle = stacks.samples() + " samples, total " + stacks.totalWeight() + " " + unit
            + ", " + stacks.stacks().size() + " distinct stacks";
        return PAGE
            .replace("@TITLE@", html(title))
            .replace("@SUBTITLE@", html(subtitle))
            .replace("@UNIT@", jsString(unit))
            .replace("@NAMES@", namesJs)
            .replace("@ROOT@", data);
    }

    /** Builds the call tree: "all" at the root, then each stack's frames from the root down. */
    private static Node tree(CollapsedStacks stacks) {
        Node root = new Node("all");
        stacks.stacks().forEach((stack, weight) -> {
            Node node = root;
            node.total += weight;
            for (String frame : stack.split(";", -1)) {
                node = node.children.computeIfAbsent(frame, Node::new);
                node.total += weight;
            }
        });
        return root;
    }

    /** One frame of the call tree; children are sorted by name, as flame graphs conventionally are. */
    private static final class Node {
        final String name;
        final Map<String, Node> children = new TreeMap<>();
        long total;

        Node(String name) {
            this.name = name;
        }

        /** Writes {@code [nameIndex,total,[children...]]}; iterative, so deep stacks cannot overflow. */
        void writeJs(StringBuilder out, List<String> names, Map<String, Integer> nameIndex) {
            record Step(Node node, boolean close) { }
            ArrayList<Step> todo = new ArrayList<>();
            todo.add(new Step(this, false));
            boolean first = true;
            while (!todo.isEmpty()) {
                Step step = todo.removeLast();
                if (step.close) {
                    out.append("]]");
                    first = false;
                    continue;
                }
                Node node = step.node;
                int index = nameIndex.computeIfAbsent(node.name, name -> {
                    names.add(name);
                    return names.size() - 1;
                });
                out.append(first ? "" : ",").append('[').append(index).append(',').append(node.total).append(",[");
                first = true;
                todo.add(new Step(node, true));
                List<Node> kids = new ArrayList<>(node.children.values());
                for (int i = kids.size() - 1; i >= 0; i--) {
                    todo.add(new Step(kids.get(i), false));
                }
            }
        }
    }

    /** A JavaScript string literal that is also safe inside an HTML script element. */
    static String jsString(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\"", "&quot;").replace("'", "&#39;");
    }

    private static final String PAGE = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>@TITLE@</title>
        <style>
          body { margin: 0; padding: 10px 10px 30px 10px; font: 12px sans-serif; background: #fff; }
          h1 { margin: 4px 0; font-size: 18px; font-weight: normal; text-align: center; }
          #sub { text-align: center; color: #555; margin-bottom: 6px; }
          #bar { margin-bottom: 4px; }
          #empty { text-align: center; padding: 40px; color: #a00; display: none; }
          canvas { width: 100%; display: block; cursor: pointer; }
          #status { position: fixed; bottom: 0; left: 0; right: 0; padding: 4px 8px; background: #ffffe0;
                    border-top: 1px solid #ffc000; white-space: nowrap; overflow: hidden; min-height: 14px; }
        </style>
        </head>
        <body>
        <h1>@TITLE@</h1>
        <div id="sub">@SUBTITLE@</div>
        <div id="bar"><button id="reset">Reset zoom</button></div>
        <div id="empty">No samples were collected.</div>
        <canvas id="graph"></canvas>
        <div id="status">Hover over a frame for details; click to zoom.</div>
        <script>
        "use strict";
        const unit = @UNIT@;
        const names = @NAMES@;
        const root = @ROOT@;
        const ROW = 16;
        const levels = [];
        (function flatten() {
          const todo = [[root, 0, 0]];
          while (todo.length > 0) {
            const [node, x, depth] = todo.pop();
            (levels[depth] = levels[depth] || []).push({name: names[node[0]], v: node[1], x: x, d: depth});
            let cx = x;
            for (const child of node[2]) { todo.push([child, cx, depth + 1]); cx += child[1]; }
          }
          for (const level of levels) level.sort((a, b) => a.x - b.x);
        })();
        const all = levels[0][0];
        const canvas = document.getElementById("graph");
        const ctx = canvas.getContext("2d");
        const status = document.getElementById("status");
        let zoom = all;

        function hash(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h >>> 0; }
        function color(f) {
          const n = f.name, h = hash(n);
          if (/^(java|jdk|sun|javax)[.\\/]/.test(n)) return "hsl(" + (150 + h % 40) + ",45%," + (55 + h % 15) + "%)";
          if (n.indexOf(".") < 0 && n.indexOf("/") < 0 || n.startsWith("[")) return "hsl(" + (h % 20) + ",65%," + (60 + h % 12) + "%)";
          return "hsl(" + (20 + h % 35) + ",85%," + (55 + h % 12) + "%)";
        }
        function amount(v) {
          if (unit === "ns") return (v / 1e6).toFixed(3) + " ms";
          if (unit === "bytes") {
            if (v >= 1 << 30) return (v / (1 << 30)).toFixed(2) + " GiB";
            if (v >= 1 << 20) return (v / (1 << 20)).toFixed(2) + " MiB";
            if (v >= 1 << 10) return (v / (1 << 10)).toFixed(1) + " KiB";
          }
          return v.toLocaleString("en-US") + " " + unit;
        }
        function describe(f) {
          return f.name + " \\u2014 " + amount(f.v) + " (" + (100 * f.v / all.v).toFixed(2) + "%)";
        }

        function render() {
          if (all.v === 0) { document.getElementById("empty").style.display = "block"; canvas.style.display = "none"; return; }
          const dpr = window.devicePixelRatio || 1;
          const w = canvas.clientWidth, h = levels.length * ROW;
          canvas.style.height = h + "px";
          canvas.width = Math.floor(w * dpr);
          canvas.height = Math.floor(h * dpr);
          ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
          ctx.font = "12px sans-serif";
          ctx.textBaseline = "middle";
          const scale = w / zoom.v;
          for (const level of levels) {
            for (const f of level) {
              const left = Math.max(f.x, zoom.x), right = Math.min(f.x + f.v, zoom.x + zoom.v);
              const pw = (right - left) * scale;
              if (pw < 0.5) continue;
              const px = (left - zoom.x) * scale, py = h - (f.d + 1) * ROW;
              ctx.fillStyle = f.d < zoom.d ? "#ddd" : color(f);
              ctx.fillRect(px, py, Math.max(pw - 0.5, 0.5), ROW - 1);
              if (pw > 24) {
                const fit = Math.floor((pw - 6) / 7);
                const label = f.name.length <= fit ? f.name : f.name.substring(0, Math.max(fit - 2, 1)) + "..";
                ctx.fillStyle = "#000";
                ctx.fillText(label, px + 3, py + ROW / 2, pw - 6);
              }
            }
          }
        }

        function frameAt(event) {
          const rect = canvas.getBoundingClientRect();
          const depth = Math.floor((rect.height - (event.clientY - rect.top)) / ROW);
          const level = levels[depth];
          if (!level || all.v === 0) return null;
          const x = zoom.x + (event.clientX - rect.left) * zoom.v / rect.width;
          for (const f of level) {
            if (f.x <= x && x < f.x + f.v) return f;
          }
          return null;
        }

        canvas.addEventListener("mousemove", e => {
          const f = frameAt(e);
          status.textContent = f ? describe(f) : "";
          canvas.title = f ? describe(f) : "";
        });
        canvas.addEventListener("click", e => {
          const f = frameAt(e);
          if (f) { zoom = f.d === 0 || f === zoom ? all : f; render(); }
        });
        document.getElementById("reset").addEventListener("click", () => { zoom = all; render(); });
        window.addEventListener("resize", render);
        render();
        </script>
        </body>
        </html>
        """;
}
