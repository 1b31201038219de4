//! The comparison as one HTML page: no scripts, no external files (styles and SVG inline), so it
//! can be mailed, attached to an issue or opened offline.

use super::svg::{latency_chart, size_chart, Series, COLOURS};
use super::{quality, Comparison};
use std::fmt::Write as _;

pub fn page(c: &Comparison) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1>edgebert compare: {} blobs</h1>", c.blobs.len());
    let _ = write!(
        body,
        "<p class=\"meta\">{}<br>Latency columns: p50 in ms of batch {} on synthetic ids; open: median of five Model::open calls (map, validate, build the tokenizer){}</p>",
        esc(&c.kernels),
        c.batch,
        c.data.as_ref().map(|d| format!("; accuracy on {}", esc(d))).unwrap_or_default()
    );
    body += "<div class=\"scroll\">";
    body += &table(c);
    body += "</div>";
    body += "<div class=\"charts\">";
    let _ = write!(body, "<figure id=\"latency\">{}<figcaption>p50 latency against sequence length, one line per blob{}.</figcaption></figure>", latency(c), if c.threads.len() > 1 { " and thread count (dashed: more threads)" } else { "" });
    match size(c) {
        Some(svg) => {
            let _ = write!(body, "<figure id=\"size\">{svg}<figcaption>Quality against size: up and to the left is better.</figcaption></figure>");
        }
        None => body += "<figure id=\"size\"><p class=\"none\">No accuracy measured: run with <code>--reference HF_DIR --data FILE</code> to chart quality against size.</p></figure>",
    }
    body += "</div>";
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>edgebert compare</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}\
h1{font-size:1.4em}.meta{color:#555;font-size:.9em}.scroll{overflow-x:auto}table{border-collapse:collapse;margin:1em 0;font-size:13px}\
th,td{padding:.3em .5em;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}\
th{background:#f4f4f4;font-weight:600}td:first-child{white-space:nowrap}.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;border-radius:2px}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5em}figure{margin:0}\
svg{width:100%;height:auto;font-family:system-ui,sans-serif}figcaption{color:#555;font-size:.9em}.none{color:#777;padding:2em}";

fn table(c: &Comparison) -> String {
    let mut t = String::from(
        "<table><thead><tr><th>blob</th><th>weights</th><th>embeddings</th><th>size MB</th><th>open ms</th>",
    );
    for &th in &c.threads {
        for &s in &c.seq {
            let _ = write!(t, "<th>seq {s}<br>{th} thr</th>");
        }
    }
    t += "<th>accuracy</th><th>agreement</th><th>cosine<br>mean / min</th></tr></thead><tbody>";
    for (i, b) in c.blobs.iter().enumerate() {
        let _ = write!(
            t,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.3}</td>",
            COLOURS[i % COLOURS.len()],
            esc(&b.name),
            esc(&b.weights),
            esc(&b.embeddings),
            b.file_bytes as f64 / 1e6,
            b.open_ms
        );
        for &th in &c.threads {
            for &s in &c.seq {
                let _ = write!(
                    t,
                    "<td>{}</td>",
                    b.p50(s, th).map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())
                );
            }
        }
        let q = b.quality.as_ref();
        let _ = write!(
            t,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            q.and_then(|q| q.accuracy).map(|a| format!("{a:.4}")).unwrap_or_else(|| "-".into()),
            q.and_then(|q| q.argmax_agreement)
                .map(|a| format!("{:.2}%", a * 100.0))
                .unwrap_or_else(|| "-".into()),
            q.map(|q| format!("{:.5} / {:.5}", q.cosine_mean, q.cosine_min)).unwrap_or_else(|| "-".into()),
        );
    }
    t + "</tbody></table>"
}

fn latency(c: &Comparison) -> String {
    let mut series = Vec::new();
    for (i, b) in c.blobs.iter().enumerate() {
        for (j, &th) in c.threads.iter().enumerate() {
            let label = if c.threads.len() > 1 { format!("{} ({th} thr)", b.name) } else { b.name.clone() };
            series.push(Series {
                label,
                colour: COLOURS[i % COLOURS.len()],
                dashed: j > 0,
                points: c.seq.iter().filter_map(|&s| b.p50(s, th).map(|v| (s as f64, v))).collect(),
            });
        }
    }
    latency_chart(&series, &c.seq)
}

fn size(c: &Comparison) -> Option<String> {
    let measured: Vec<_> = c
        .blobs
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.quality.as_ref().map(|q| (i, b, quality(q))))
        .collect();
    let name = measured.first()?.2 .1;
    let series: Vec<Series> = measured
        .iter()
        .map(|(i, b, (v, _))| Series {
            label: b.name.clone(),
            colour: COLOURS[i % COLOURS.len()],
            dashed: false,
            points: vec![(b.file_bytes as f64 / 1e6, *v)],
        })
        .collect();
    Some(size_chart(&series, name))
}

/// Text made safe for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
