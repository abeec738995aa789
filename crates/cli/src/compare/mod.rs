//! `pcp llm compare`: the comparison tables of benchmark reports (see man/pcp-llm.1).
//!
//! Each input (a GuideLLM result file, read through the importer's own reader and model, or
//! an archive written by `guidellm2pcp`, read through libpcp in [`archive`]) is one
//! configuration; [`model`] reduces its benchmarks to steps and matches the steps of
//! every OTHER input with BASELINE's; [`report`] writes the tables and key findings.

pub mod archive;
pub mod html;
pub mod model;
pub mod report;

use guidellm::{self, catalogue};
use model::{Matching, Step};
use std::io::Write;
use std::path::Path;

pub const PROG: &str = "pcp-llm compare";

pub const USAGE: &str = "Usage: pcp llm compare [options] BASELINE OTHER...

Compare GuideLLM results, as result files (.json, .json.zst) or archives written by
guidellm2pcp: per matched load step, requests/s, output tokens/s, request latency, TTFT and
ITL of each OTHER against BASELINE, then key findings.

Options:
  -n, --name NAME        display name of the next input (repeat, in input order;
                         default: the file name)
  -F, --format FORMAT    text (default), markdown, csv or json
  -H, --html FILE        also write one self-contained HTML page (tables and charts)
  -h, --help             this text";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Csv,
    Json,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub inputs: Vec<String>,
    pub names: Vec<String>,
    pub format: Format,
    pub html: Option<String>,
}

/// How the command failed: exit status 2 for usage, 1 for bad input (the importer's type).
pub use guidellm::Failure;

/// Parse `compare`'s arguments. `Ok(None)` means `--help`.
pub fn parse_args(args: &[String]) -> Result<Option<Options>, Failure> {
    let usage = |m: String| Failure::Usage(format!("{PROG}: {m}\n{USAGE}"));
    let mut o = Options {
        inputs: Vec::new(),
        names: Vec::new(),
        format: Format::Text,
        html: None,
    };
    let mut it = args.iter();
    let mut only_files = false;
    while let Some(a) = it.next() {
        if only_files || !a.starts_with('-') || a == "-" {
            o.inputs.push(a.clone());
            continue;
        }
        let (flag, inline) = guidellm::options::split(a);
        let mut value = |name: &str| guidellm::options::value(name, &inline, &mut it, usage);
        match flag {
            "--" => only_files = true,
            "-h" | "--help" => return Ok(None),
            "-n" | "--name" => o.names.push(value(flag)?),
            "-H" | "--html" => o.html = Some(value(flag)?),
            "-F" | "--format" => {
                let v = value(flag)?;
                o.format = match v.as_str() {
                    "text" => Format::Text,
                    "markdown" | "md" => Format::Markdown,
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    _ => {
                        return Err(usage(format!(
                            "unknown format {v:?} (text, markdown, csv or json)"
                        )));
                    }
                };
            }
            _ => return Err(usage(format!("unknown option {a}"))),
        }
    }
    if o.inputs.len() < 2 {
        return Err(usage(
            "needs a BASELINE and at least one OTHER input".into(),
        ));
    }
    if o.names.len() > o.inputs.len() {
        return Err(usage(format!(
            "{} names for {} inputs",
            o.names.len(),
            o.inputs.len()
        )));
    }
    if o.inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err(usage("stdin (-) given more than once".into()));
    }
    Ok(Some(o))
}

/// One input: its display name, file, and steps.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub file: String,
    pub guidellm_version: Option<String>,
    pub shape: &'static str,
    pub steps: Vec<Step>,
}

/// The default display name: the file name without `.json`/`.zst`; for GuideLLM's default
/// `benchmarks.json`, the directory that holds it; for an archive, its base name.
pub fn default_name(file: &str) -> String {
    if file == "-" {
        return "stdin".into();
    }
    if let Some(base) = archive::archive_base(file) {
        return Path::new(&base)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(base);
    }
    let p = Path::new(file);
    let mut stem = p
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    for suffix in [".zst", ".json"] {
        if let Some(s) = stem.strip_suffix(suffix) {
            stem = s.to_string();
        }
    }
    if stem == "benchmarks"
        && let Some(dir) = p
            .parent()
            .and_then(|d| d.canonicalize().ok())
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        return dir;
    }
    stem
}

fn read(file: &str, idx: usize, name: String) -> Result<Input, String> {
    if let Some(base) = archive::archive_base(file) {
        let steps = archive::read_steps(&base).map_err(|m| format!("{PROG}: {file}: {m}"))?;
        return Ok(Input {
            name,
            file: file.to_string(),
            guidellm_version: None,
            shape: "archive",
            steps,
        });
    }
    let families = catalogue::families();
    let (info, benches) =
        guidellm::read_input(idx, file, &families, 1.0, guidellm::reader::MAX_STRING).map_err(
            |m| {
                // the importer's messages start with its own name
                let m = m
                    .strip_prefix(guidellm::PROG)
                    .and_then(|m| m.strip_prefix(": "))
                    .unwrap_or(&m);
                format!("{PROG}: {m}")
            },
        )?;
    Ok(Input {
        name,
        file: file.to_string(),
        guidellm_version: info.guidellm_version,
        shape: info.shape.label(),
        steps: model::steps(&benches, &families),
    })
}

/// Everything the report needs.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub inputs: Vec<Input>,
    pub matching: Matching,
    /// Indexes into [`model::QUANTITIES`] of the quantities shown: GuideLLM's always, a
    /// system quantity only where some step of the tables has a value for it.
    pub shown: Vec<usize>,
    /// The system quantities left out (no values in any step's window).
    pub omitted: Vec<usize>,
}

/// Read the inputs and match them; errors are one line each.
pub fn compare(o: &Options) -> Result<Comparison, String> {
    let name = |i: usize| {
        o.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| default_name(&o.inputs[i]))
    };
    // result files are read in parallel (each is parsed on one core); archives through libpcp
    // on this thread. The first failure in input order is reported.
    let results: Vec<Result<Input, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = o
            .inputs
            .iter()
            .enumerate()
            .map(|(i, file)| {
                (archive::archive_base(file).is_none() && file != "-")
                    .then(|| scope.spawn(move || read(file, i, name(i))))
            })
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| match h {
                Some(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(format!("{PROG}: {}: reader failed", o.inputs[i]))),
                None => read(&o.inputs[i], i, name(i)),
            })
            .collect()
    });
    let mut inputs = Vec::new();
    for r in results {
        inputs.push(r?);
    }
    // display names must tell the inputs apart
    for i in 1..inputs.len() {
        if inputs[..i].iter().any(|p| p.name == inputs[i].name) {
            inputs[i].name = format!("{}#{}", inputs[i].name, i + 1);
        }
    }
    let steps: Vec<Vec<Step>> = inputs.iter().map(|i| i.steps.clone()).collect();
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let matching = model::match_inputs(&steps, &names);
    for (oi, input) in inputs.iter().enumerate().skip(1) {
        if !matching.rows.iter().any(|r| r.others[oi - 1].is_some()) {
            let strategies = |i: &Input| {
                i.steps
                    .iter()
                    .map(|s| s.strategy.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(format!(
                "{PROG}: {}: nothing in common with {}: its benchmarks are {}, {}'s are {}",
                input.file,
                inputs[0].file,
                strategies(input),
                inputs[0].name,
                strategies(&inputs[0])
            ));
        }
    }
    let has_value = |q: usize| {
        matching.rows.iter().any(|r| {
            inputs[0].steps[r.base].values[q].is_some()
                || r.others.iter().enumerate().any(|(k, o)| {
                    o.is_some_and(|(j, _)| inputs[k + 1].steps[j].values[q].is_some())
                })
        })
    };
    let (shown, omitted): (Vec<usize>, Vec<usize>) =
        (0..model::NQ).partition(|&q| !model::QUANTITIES[q].is_system() || has_value(q));
    Ok(Comparison {
        inputs,
        matching,
        shown,
        omitted,
    })
}

/// `pcp-llm compare ARGS`: returns the exit status.
pub fn main_with_args(args: &[String]) -> i32 {
    let o = match parse_args(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            // a closed stdout (--help | head -1) is not an error
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return 0;
        }
        Err(f) => {
            eprintln!("{}", f.message());
            return f.exit_code();
        }
    };
    let c = match compare(&o) {
        Ok(c) => c,
        Err(m) => {
            eprintln!("{m}");
            return 1;
        }
    };
    for w in &c.matching.warnings {
        eprintln!("{PROG}: warning: {w}");
    }
    if let Some(path) = &o.html {
        let page = match html::html(&c) {
            Ok(p) => p,
            Err(m) => {
                eprintln!("{PROG}: {path}: cannot draw the charts: {m}");
                return 1;
            }
        };
        if let Err(e) = std::fs::write(path, page) {
            eprintln!("{PROG}: {path}: cannot write: {e}");
            return 1;
        }
    }
    let out = match o.format {
        Format::Text => report::text(&c),
        Format::Markdown => report::markdown(&c),
        Format::Csv => report::csv(&c),
        Format::Json => report::json(&c),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("{PROG}: cannot write the report: {e}");
            1
        }
    }
}
