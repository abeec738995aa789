//! `--html FILE`: one self-contained page (no script, no network) with, per quantity, a chart
//! of the value against the load step, one line per configuration, and the table; then the key
//! findings with a bar chart of the mean % change per quantity. Charts are SVG drawn with
//! plotters' SVG backend and embedded in the page.

use super::Comparison;
use super::model::{self, QUANTITIES};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write;

const W: u32 = 720;
const H: u32 = 340;
/// Line colours of the configurations (baseline first), readable on white.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The x position of each row: the baseline's nominal load, or the row number when some row
/// has none (mixed strategies of a sweep).
fn xs(c: &Comparison) -> (Vec<f64>, &'static str) {
    let loads: Vec<Option<f64>> = c
        .matching
        .rows
        .iter()
        .map(|r| c.inputs[0].steps[r.base].load)
        .collect();
    let kinds: Vec<&str> = c
        .matching
        .rows
        .iter()
        .map(|r| c.inputs[0].steps[r.base].kind.as_str())
        .collect();
    let same_kind = kinds.windows(2).all(|w| w[0] == w[1]);
    if same_kind && loads.iter().all(Option::is_some) {
        let label = match kinds.first().copied() {
            Some("concurrent") => "concurrency (streams)",
            Some("throughput") => "maximum concurrency",
            Some("constant" | "poisson" | "async") => "rate (requests/s)",
            _ => "load",
        };
        (loads.into_iter().flatten().collect(), label)
    } else {
        ((0..loads.len()).map(|i| i as f64).collect(), "step")
    }
}

fn range(v: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if !lo.is_finite() {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        lo.abs().max(1.0) * 0.1
    };
    Some((lo - pad, hi + pad))
}

/// Value of quantity `q` of input `ii` at each row (`None`: no step or no value).
fn series(c: &Comparison, ii: usize, q: usize) -> Vec<Option<f64>> {
    c.matching
        .rows
        .iter()
        .map(|r| {
            if ii == 0 {
                c.inputs[0].steps[r.base].values[q]
            } else {
                r.others[ii - 1].and_then(|(j, _)| c.inputs[ii].steps[j].values[q])
            }
        })
        .collect()
}

/// The line chart of one quantity, as an SVG document.
fn line_chart(c: &Comparison, q: usize) -> Result<String, String> {
    let (x, xlabel) = xs(c);
    let all: Vec<Vec<Option<f64>>> = (0..c.inputs.len()).map(|i| series(c, i, q)).collect();
    let (y0, y1) = range(all.iter().flatten().flatten().copied()).unwrap_or((0.0, 1.0));
    let (x0, x1) = range(x.iter().copied()).unwrap_or((0.0, 1.0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(QUANTITIES[q].label, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(QUANTITIES[q].unit)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, ys) in all.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let pts: Vec<(f64, f64)> = x
                .iter()
                .zip(ys)
                .filter_map(|(x, y)| y.map(|y| (*x, y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(c.inputs[i].name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Bars of the mean % change of each shown quantity, one group per OTHER.
fn change_chart(c: &Comparison, f: &[Vec<model::Finding>]) -> Result<String, String> {
    let n = c.shown.len();
    let others = c.inputs.len() - 1;
    let vals: Vec<Vec<Option<f64>>> = f
        .iter()
        .map(|fo| c.shown.iter().map(|&q| fo[q].mean_pct).collect())
        .collect();
    let (lo, hi) =
        range(vals.iter().flatten().flatten().copied().chain([0.0])).unwrap_or((-1.0, 1.0));
    let mut svg = String::new();
    {
        let height = 60 + 26 * n as u32;
        let root = SVGBackend::with_string(&mut svg, (W, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Mean % change against the baseline", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(250)
            .build_cartesian_2d(lo..hi, 0.0..n as f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("% change")
            .draw()
            .map_err(|e| e.to_string())?;
        // the quantity of each band, right-aligned left of the plot
        let style = ("sans-serif", 12)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (k, &q) in c.shown.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(lo, n as f64 - k as f64 - 0.5));
            root.draw(&Text::new(QUANTITIES[q].label, (px - 6, py), style.clone()))
                .map_err(|e| e.to_string())?;
        }
        let band = 0.8 / others as f64;
        for (o, vs) in vals.iter().enumerate() {
            let colour = COLOURS[(o + 1) % COLOURS.len()];
            let bars = vs.iter().enumerate().filter_map(|(k, v)| {
                let v = (*v)?;
                let top = n as f64 - k as f64 - 0.1 - band * o as f64;
                Some(Rectangle::new(
                    [(0.0_f64.min(v), top - band), (0.0_f64.max(v), top)],
                    colour.filled(),
                ))
            });
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(c.inputs[o + 1].name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The page. Errors (a chart that cannot be drawn) are messages.
pub fn html(c: &Comparison) -> Result<String, String> {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>GuideLLM comparison</title>\n<style>\nbody{font-family:sans-serif;margin:2em;max-width:80em}\ntable{border-collapse:collapse;margin:1em 0}\nth,td{border:1px solid #bbb;padding:.25em .6em}\ntd{text-align:right}\ntd:first-child{text-align:left}\nsection{margin-bottom:2em}\n.note{color:#555}\n</style>\n</head>\n<body>\n<h1>GuideLLM comparison</h1>\n<ul>\n",
    );
    for (i, input) in c.inputs.iter().enumerate() {
        let role = if i == 0 { "Baseline" } else { "Other" };
        let _ = writeln!(
            out,
            "<li>{role}: <b>{}</b> = {}</li>",
            esc(&input.name),
            esc(&input.file)
        );
    }
    out.push_str("</ul>\n");
    let tables = super::report::tables_for_html(c);
    for (k, &q) in c.shown.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section class=\"quantity\" id=\"{}\">\n<h2>{}</h2>",
            QUANTITIES[q].id,
            esc(QUANTITIES[q].label)
        );
        out.push_str("<figure class=\"chart\">\n");
        out.push_str(&line_chart(c, q)?);
        out.push_str("\n</figure>\n");
        out.push_str(&table_html(&tables[k].0, &tables[k].1));
        out.push_str("</section>\n");
    }
    let st: Vec<Vec<model::Step>> = c.inputs.iter().map(|i| i.steps.clone()).collect();
    let f: Vec<Vec<model::Finding>> = (1..c.inputs.len())
        .map(|oi| model::findings(&st, &c.matching, oi))
        .collect();
    out.push_str("<section class=\"findings\">\n<h2>Key findings</h2>\n<figure class=\"chart\">\n");
    out.push_str(&change_chart(c, &f)?);
    out.push_str("\n</figure>\n");
    for (header, rows) in &tables[c.shown.len()..] {
        out.push_str(&table_html(header, rows));
    }
    out.push_str("</section>\n");
    for n in super::report::notes_for_html(c) {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&n));
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

fn table_html(header: &[String], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table>\n<tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>\n");
    for r in rows {
        s.push_str("<tr>");
        for cell in r {
            let _ = write!(s, "<td>{}</td>", esc(cell));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    s
}
