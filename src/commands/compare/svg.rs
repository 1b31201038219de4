//! Two small SVG charts, drawn by hand (no chart library): lines of latency against sequence
//! length, and points of quality against size. Coordinates are plain numbers in a fixed
//! viewBox, so the page scales without scripts.

use std::fmt::Write as _;

/// One colour per blob, distinguishable for the common colour-vision deficiencies (Okabe-Ito).
pub const COLOURS: [&str; 8] =
    ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 48.0;

pub struct Series {
    pub label: String,
    pub colour: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A frame with axes, ticks and labels; `x` and `y` map data to pixels.
struct Frame {
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
    log_x: bool,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        let (v, lo, hi) = if self.log_x {
            (v.log2(), self.x_min.log2(), self.x_max.log2())
        } else {
            (v, self.x_min, self.x_max)
        };
        LEFT + (v - lo) / (hi - lo).max(f64::EPSILON) * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        H - BOTTOM - (v - self.y_min) / (self.y_max - self.y_min).max(f64::EPSILON) * (H - TOP - BOTTOM)
    }
}

/// Latency (y, ms, from 0) against sequence length (x, log scale), one line per series.
pub fn latency_chart(series: &[Series], seqs: &[usize]) -> String {
    let y_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0, f64::max) * 1.1;
    let (lo, hi) = (*seqs.iter().min().unwrap_or(&1) as f64, *seqs.iter().max().unwrap_or(&2) as f64);
    let frame = Frame { x_min: lo, x_max: hi.max(lo * 2.0), y_min: 0.0, y_max: y_max.max(1e-3), log_x: true };
    let x_ticks: Vec<(f64, String)> = seqs.iter().map(|&s| (s as f64, s.to_string())).collect();
    let mut svg =
        open("Latency against sequence length", "sequence length (tokens, log scale)", "p50 latency (ms)");
    axes(&mut svg, &frame, &x_ticks, &nice_ticks(0.0, frame.y_max));
    for (i, s) in series.iter().enumerate() {
        let pts: Vec<String> =
            s.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", frame.x(x), frame.y(y))).collect();
        let dash = if s.dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = write!(
            svg,
            r#"<polyline class="series" fill="none" stroke="{}" stroke-width="2.5"{dash} points="{}"/>"#,
            s.colour,
            pts.join(" ")
        );
        for &(x, y) in &s.points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"><title>{}: {y:.3} ms at {x} tokens</title></circle>"#,
                frame.x(x),
                frame.y(y),
                s.colour,
                super::html::esc(&s.label)
            );
        }
        legend(&mut svg, i, s);
    }
    svg + "</svg>"
}

/// Quality (y) against blob size (x, MB, from 0), one labelled point per series.
pub fn size_chart(series: &[Series], quality_name: &str) -> String {
    let points: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.iter().copied()).collect();
    let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.15;
    let (mut y_lo, mut y_hi) =
        points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let pad = ((y_hi - y_lo) * 0.2).max(1e-4);
    y_lo -= pad;
    y_hi += pad;
    let frame = Frame { x_min: 0.0, x_max: x_max.max(1e-3), y_min: y_lo, y_max: y_hi, log_x: false };
    let mut svg = open(&format!("{quality_name} against size"), "blob size (MB)", quality_name);
    let x_ticks: Vec<(f64, String)> = nice_ticks(0.0, frame.x_max);
    axes(&mut svg, &frame, &x_ticks, &nice_ticks(y_lo, y_hi));
    // Points carry their names (no legend); a name that would run off the right edge goes left.
    for s in series {
        for &(x, y) in &s.points {
            let (px, py) = (frame.x(x), frame.y(y));
            let (tx, anchor) = if px > W - RIGHT - 120.0 { (px - 9.0, "end") } else { (px + 9.0, "start") };
            let _ = write!(
                svg,
                r#"<circle class="series" cx="{px:.1}" cy="{py:.1}" r="6" fill="{}"><title>{}: {y:.4} at {x:.2} MB</title></circle><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="12">{}</text>"#,
                s.colour,
                super::html::esc(&s.label),
                py + 4.0,
                super::html::esc(&s.label)
            );
        }
    }
    svg + "</svg>"
}

fn open(title: &str, x_label: &str, y_label: &str) -> String {
    let (cx, cy) = ((LEFT + W - RIGHT) / 2.0, (TOP + H - BOTTOM) / 2.0);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><text x="{cx}" y="{}" text-anchor="middle" font-size="13">{x}</text><text transform="translate(16 {cy}) rotate(-90)" text-anchor="middle" font-size="13">{y}</text>"#,
        H - 10.0,
        t = super::html::esc(title),
        x = super::html::esc(x_label),
        y = super::html::esc(y_label),
    )
}

fn axes(svg: &mut String, f: &Frame, x_ticks: &[(f64, String)], y_ticks: &[(f64, String)]) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = write!(svg, r##"<path d="M{x0} {y1}V{y0}H{x1}" fill="none" stroke="#444"/>"##);
    for (v, label) in x_ticks {
        let x = f.x(*v);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{}" stroke="#444"/><text x="{x:.1}" y="{}" text-anchor="middle" font-size="11">{label}</text>"##,
            y0 + 5.0,
            y0 + 18.0
        );
    }
    for (v, label) in y_ticks {
        let y = f.y(*v);
        let _ = write!(
            svg,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{label}</text>"##,
            x0 - 6.0,
            y + 4.0
        );
    }
}

fn legend(svg: &mut String, i: usize, s: &Series) {
    let (x, y) = (W - RIGHT + 14.0, TOP + 8.0 + 20.0 * i as f64);
    let dash = if s.dashed { r#" stroke-dasharray="6 4""# } else { "" };
    let _ = write!(
        svg,
        r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="3"{dash}/><text x="{}" y="{}" font-size="12">{}</text>"#,
        x + 22.0,
        s.colour,
        x + 28.0,
        y + 4.0,
        super::html::esc(&crate::shorten(&s.label, 30))
    );
}

/// About five round tick values covering [lo, hi].
fn nice_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let span = (hi - lo).max(f64::EPSILON);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(mag * 10.0);
    let decimals = (-step.log10().floor()).max(0.0) as usize + usize::from(step / mag == 2.5);
    let mut v = (lo / step).ceil() * step;
    let mut ticks = Vec::new();
    while v <= hi + step * 1e-9 {
        ticks.push((v, format!("{v:.decimals$}")));
        v += step;
    }
    ticks
}
