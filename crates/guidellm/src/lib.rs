//! `guidellm2pcp`: import GuideLLM result files (all four report shapes, `.json`, `.json.zst`
//! or stdin) into a PCP archive: per-benchmark summary statistics (every family, status and
//! percentile) and per-interval time series built from the per-request records.
//!
//! Pipeline: [`reader`] streams each file (records reduced to a few numbers as they are read),
//! [`model`] interprets each benchmark as soon as it has been read and builds its
//! [`timeline`], [`writer`] writes all benchmarks in time order through libpcp_import under a
//! temporary name, renamed into place at the end. Names and PMIDs: [`catalogue`].
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod model;
pub mod options;
pub mod reader;
pub mod timeline;
pub mod writer;

use model::Benchmark;
use pcp::import::{self, Archive};
use reader::ReadError;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use writer::InputInfo;

pub const PROG: &str = "guidellm2pcp";

pub const USAGE: &str = "Usage: guidellm2pcp [options] RESULTS... -o ARCHIVE

Import GuideLLM result files (benchmarks.json, .json.zst, or - for stdin) into a PCP archive.

Options:
  -o, --output ARCHIVE       archive base name (writes ARCHIVE.0, .meta, .index)
  -i, --interval SECONDS     time-series interval (default 1; also 500ms, 2s)
  -H, --hostname HOST        archive host name (default: this host, as pmlogger names it)
      --no-marks             write no <mark> records (default: one between two runs)
      --max-string SIZE      longest JSON string accepted (default 16M; K, M, G suffixes)
      --merge-with ARCHIVE   for merging into this pmlogger archive with pmlogextract: its
                             host name, no marks, and an ending that pmlogextract joins
                             to its records without a <mark> (see the man page)
  -Z, --timezone TZ          archive timezone (default UTC)
  -V, --archive-version N    PCP archive version, 2 or 3 (default 2)
  -f, --force                overwrite an existing archive
  -q, --quiet                no summary line
  -h, --help                 this text";

/// How the run failed: exit status 2 for usage, 1 for everything else.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Fatal(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Fatal(_) => 1,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Fatal(m) => m,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub inputs: Vec<String>,
    pub output: PathBuf,
    pub interval: f64,
    pub hostname: Option<String>,
    pub timezone: String,
    pub archive_version: i32,
    pub force: bool,
    pub quiet: bool,
    /// Write no `<mark>` records at all.
    pub no_marks: bool,
    /// A pmlogger archive the import is to be merged into.
    pub merge_with: Option<String>,
    /// Longest JSON string accepted, in bytes.
    pub max_string: u64,
}

fn parse_interval(s: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().ok()?;
    let v = v * scale;
    (0.001..=86400.0).contains(&v).then_some(v)
}

/// `1048576`, `64K`, `16M`, `1G` (powers of 1024; a trailing `iB` or `B` is allowed); 1 KiB
/// to 4 GiB.
fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.chars().last()? {
        'K' | 'k' => (&t[..t.len() - 1], 10),
        'M' | 'm' => (&t[..t.len() - 1], 20),
        'G' | 'g' => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = num.trim().parse().ok()?;
    let v = n.checked_mul(1u64 << shift)?;
    (1024..=4u64 << 30).contains(&v).then_some(v)
}

/// Parse the command line (without the program name). `Ok(None)` means `--help`.
pub fn parse_args(args: &[String]) -> Result<Option<Options>, Failure> {
    let mut o = Options {
        inputs: Vec::new(),
        output: PathBuf::new(),
        interval: 1.0,
        hostname: None,
        timezone: "UTC".into(),
        archive_version: 2,
        force: false,
        quiet: false,
        no_marks: false,
        merge_with: None,
        max_string: reader::MAX_STRING,
    };
    let mut output = None;
    let mut it = args.iter();
    let usage = |m: String| Failure::Usage(format!("{PROG}: {m}\n{USAGE}"));
    while let Some(a) = it.next() {
        let (flag, inline) = crate::options::split(a);
        let mut value = |name: &str| crate::options::value(name, &inline, &mut it, usage);
        match flag {
            "-h" | "--help" => return Ok(None),
            "-o" | "--output" => output = Some(value(flag)?),
            "-i" | "--interval" => {
                let v = value(flag)?;
                o.interval = parse_interval(&v)
                    .ok_or_else(|| usage(format!("bad interval {v:?} (0.001 to 86400 seconds)")))?;
            }
            "-H" | "--hostname" => o.hostname = Some(value(flag)?),
            "-Z" | "--timezone" => o.timezone = value(flag)?,
            "-V" | "--archive-version" => {
                let v = value(flag)?;
                o.archive_version = match v.as_str() {
                    "2" => 2,
                    "3" => 3,
                    _ => return Err(usage(format!("archive version must be 2 or 3, not {v:?}"))),
                };
            }
            "-f" | "--force" => o.force = true,
            "-q" | "--quiet" => o.quiet = true,
            "--no-marks" => o.no_marks = true,
            "--merge-with" => o.merge_with = Some(value(flag)?),
            "--max-string" => {
                let v = value(flag)?;
                o.max_string = parse_size(&v)
                    .ok_or_else(|| usage(format!("bad size {v:?} (bytes, or with K, M or G)")))?;
            }
            "-" => o.inputs.push(a.clone()),
            f if f.starts_with('-') => return Err(usage(format!("unknown option {a}"))),
            _ => o.inputs.push(a.clone()),
        }
    }
    let output = output.ok_or_else(|| usage("no output archive (-o ARCHIVE)".into()))?;
    if o.inputs.is_empty() {
        return Err(usage("no input files".into()));
    }
    if o.inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err(usage("stdin (-) given more than once".into()));
    }
    // accept "x", "x.0", "x.meta", "x.index"
    let mut base = output.clone();
    for suffix in [".0", ".meta", ".index"] {
        if let Some(b) = output.strip_suffix(suffix) {
            base = b.to_string();
        }
    }
    if base.is_empty() || base.ends_with('/') {
        return Err(usage(format!("bad archive name {output:?}")));
    }
    o.output = PathBuf::from(base);
    Ok(Some(o))
}

fn open_input(name: &str) -> Result<Box<dyn Read>, String> {
    let raw: Box<dyn Read> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(name).map_err(|e| format!("cannot open: {e}"))?)
    };
    let mut br = BufReader::with_capacity(256 * 1024, raw);
    let head = br.fill_buf().map_err(|e| format!("read error: {e}"))?;
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let d = zstd::stream::read::Decoder::with_buffer(br).map_err(|e| format!("zstd: {e}"))?;
        Ok(Box::new(d))
    } else if head.is_empty() {
        Err("empty file".into())
    } else {
        Ok(Box::new(br))
    }
}

/// `guidellm2pcp: FILE: byte OFFSET (path P): message`, or `FILE: path P: message` for errors
/// found after a value was parsed.
fn located(file: &str, e: &ReadError) -> String {
    let path = if e.path.is_empty() {
        String::new()
    } else {
        format!(" (path {})", e.path)
    };
    match e.offset {
        Some(off) => format!("{PROG}: {file}: byte {off}{path}: {}", e.message),
        None if e.path.is_empty() => format!("{PROG}: {file}: {}", e.message),
        None => format!("{PROG}: {file}: path {}: {}", e.path, e.message),
    }
}

/// Read one input file into interpreted benchmarks.
pub fn read_input(
    idx: usize,
    name: &str,
    families: &[catalogue::Family],
    interval: f64,
    max_string: u64,
) -> Result<(InputInfo, Vec<Benchmark>), String> {
    let input = open_input(name).map_err(|m| format!("{PROG}: {name}: {m}"))?;
    let mut benches: Vec<Benchmark> = Vec::new();
    let mut shape: Option<model::Shape> = None;
    let mut cb = |raw: reader::RawBenchmark, top: &reader::RawTop| -> Result<(), ReadError> {
        let sh = match shape {
            Some(s) => s,
            None => {
                let s = model::detect(top, Some(&raw)).map_err(|m| {
                    let path = if top.metadata.is_some() {
                        "metadata.version".to_string()
                    } else {
                        format!("benchmarks[{}]", raw.index)
                    };
                    reader::semantic(path, m)
                })?;
                shape = Some(s);
                s
            }
        };
        let b = model::interpret(raw, sh, top, idx, families, interval)?;
        benches.push(b);
        Ok(())
    };
    let top = reader::parse_limited(input, max_string, &mut cb).map_err(|e| located(name, &e))?;
    let end = |m: &str, path: &str| format!("{PROG}: {name}: path {path}: {m}");
    if !top.benchmarks_seen {
        // a valid JSON object without benchmarks: say what it is
        model::detect(&top, None).map_err(|m| end(&m, "metadata.version"))?;
        return Err(end("no benchmarks list in the file", "benchmarks"));
    }
    if top.benchmark_count == 0 {
        model::detect(&top, None).map_err(|m| end(&m, "metadata.version"))?;
        return Err(end("empty benchmark list", "benchmarks"));
    }
    // metadata may follow the benchmarks in a re-serialised file: settle the shape now
    let final_shape = match &top.metadata {
        Some(_) => model::detect(&top, None).map_err(|m| end(&m, "metadata.version"))?,
        None => shape.unwrap_or(model::Shape::V04),
    };
    for b in &mut benches {
        if b.shape != model::Shape::V03 {
            b.shape = final_shape;
        }
    }
    let guidellm_version = top
        .metadata
        .as_ref()
        .and_then(|m| m.get("guidellm_version"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok((
        InputInfo {
            name: name.to_string(),
            shape: final_shape,
            guidellm_version,
            user_labels: model::user_labels(&top),
        },
        benches,
    ))
}

fn archive_files(base: &Path) -> [PathBuf; 3] {
    let s = base.as_os_str().to_string_lossy();
    [
        PathBuf::from(format!("{s}.0")),
        PathBuf::from(format!("{s}.meta")),
        PathBuf::from(format!("{s}.index")),
    ]
}

/// The pid in the name of a temporary archive file of this program,
/// `.NAME.tmpPID.{0,meta,index}`.
fn temp_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    let stem = [".0", ".meta", ".index"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))?;
    let (name, pid) = stem.rsplit_once(".tmp")?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Remove the temporary archive files a killed run (SIGKILL, a crash, a power cut: nothing
/// could clean up) left in `dir`: those whose pid is not a live process on this host. Files
/// of a live pid are kept (a run in progress); nothing is removed where /proc cannot tell.
fn remove_stale_temps(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_owner(&name) else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_file()) && std::fs::remove_file(e.path()).is_ok() {
            removed.push(name);
        }
    }
    if !removed.is_empty() {
        removed.sort();
        eprintln!(
            "{PROG}: {}: removed what a killed run left: {}",
            dir.display(),
            removed.join(" ")
        );
    }
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// `YYYY-MM-DD HH:MM:SS.sss` UTC of a Unix time.
pub fn utc(t: f64) -> String {
    let ms = (t * 1000.0).round() as i64;
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let (h, mi, s, frac) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{frac:03}")
}

/// Run the importer; returns the summary text on success.
pub fn run(o: &Options) -> Result<String, Failure> {
    let out_name = o.output.display().to_string();
    let fatal_out = |m: String| Failure::Fatal(format!("{PROG}: {out_name}: {m}"));
    let finals = archive_files(&o.output);
    if let Some(p) = finals.iter().find(|p| p.exists())
        && !o.force
    {
        return Err(fatal_out(format!(
            "archive exists ({}); use --force to overwrite",
            p.display()
        )));
    }
    let dir = match o.output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(fatal_out(format!(
            "output directory {} does not exist",
            dir.display()
        )));
    }
    let base_name = o
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "archive".into());
    remove_stale_temps(&dir);
    let tmp_base = dir.join(format!(".{base_name}.tmp{}", std::process::id()));
    let temps = archive_files(&tmp_base);
    import::remove_on_signal(&temps);
    // probe: is the directory writable?
    if let Err(e) = File::create(&temps[1]) {
        import::clear_remove_on_signal();
        return Err(fatal_out(format!("cannot write in {}: {e}", dir.display())));
    }
    let _ = std::fs::remove_file(&temps[1]);

    let result = import_into(o, &tmp_base, &temps, &finals);
    if result.is_err() {
        remove_all(&temps);
    }
    import::clear_remove_on_signal();
    result
}

fn import_into(
    o: &Options,
    tmp_base: &Path,
    temps: &[PathBuf; 3],
    finals: &[PathBuf; 3],
) -> Result<String, Failure> {
    let out_name = o.output.display().to_string();
    let fatal_out = |m: String| Failure::Fatal(format!("{PROG}: {out_name}: {m}"));
    let families = catalogue::families();

    // 1. read every input (memory: per-benchmark summaries and samples only)
    let mut inputs = Vec::new();
    let mut benches: Vec<Benchmark> = Vec::new();
    for (i, name) in o.inputs.iter().enumerate() {
        let (info, b) =
            read_input(i, name, &families, o.interval, o.max_string).map_err(Failure::Fatal)?;
        inputs.push(info);
        benches.extend(b);
    }

    // 2. duplicate benchmark ids
    let mut ids: HashMap<&str, &Benchmark> = HashMap::new();
    for b in &benches {
        if let Some(prev) = ids.insert(&b.id, b) {
            let id_path = if b.shape == model::Shape::V03 {
                "id_"
            } else {
                "config.id_"
            };
            return Err(Failure::Fatal(format!(
                "{PROG}: {}: path benchmarks[{}].{id_path}: duplicate benchmark id {} (also {} benchmarks[{}])",
                inputs[b.file].name, b.index, b.id, inputs[prev.file].name, prev.index
            )));
        }
    }
    drop(ids);

    // 3. time order, stable instances
    benches.sort_by(|a, b| {
        a.start
            .total_cmp(&b.start)
            .then(a.file.cmp(&b.file))
            .then(a.index.cmp(&b.index))
    });
    let insts = writer::instances(&benches).map_err(|(i, m)| {
        let b = &benches[i];
        Failure::Fatal(format!(
            "{PROG}: {}: path benchmarks[{}]: {m}",
            inputs[b.file].name, b.index
        ))
    })?;

    // 4. write
    // the host pmlogger names this one, so that pmlogextract merges the two without a
    // "host name mismatch"
    let logger = match &o.merge_with {
        Some(a) => {
            let end = benches.iter().map(|b| b.end).fold(f64::MIN, f64::max);
            let id = pcp::logger_archive::identity(a, end.floor() as i64)
                .map_err(|m| Failure::Fatal(format!("{PROG}: {a}: {m}")))?;
            Some(id)
        }
        None => None,
    };
    let host = o
        .hostname
        .clone()
        .or_else(|| logger.as_ref().map(|l| l.host.clone()))
        .unwrap_or_else(llm_sys::hostname::local);
    let no_marks = o.no_marks || logger.is_some();
    let pcp = |e: import::ImportError| fatal_out(format!("cannot write archive: {e}"));
    let quiet = import::QuietStderr::new();
    let mut ar = Archive::start(tmp_base, Some(o.archive_version)).map_err(pcp)?;
    ar.set_hostname(&host).map_err(pcp)?;
    ar.set_timezone(&o.timezone).map_err(pcp)?;
    let mut w = writer::Writer::new(ar, &families);
    w.declare(&benches, &insts, &inputs).map_err(pcp)?;
    for (k, (b, inst)) in benches.iter().zip(&insts).enumerate() {
        // A <mark> (nothing is known here) only where the data has a real gap: between two
        // GuideLLM runs. Between the benchmarks of one run nothing is missing, and a mark there
        // would blank every other column of a merge with pmlogger around each step.
        if k > 0 && !no_marks && run_key(&benches[k - 1]) != run_key(b) {
            w.mark().map_err(pcp)?;
        }
        w.benchmark(b, inst).map_err(pcp)?;
    }
    if let Some(id) = &logger {
        w.epilogue(id).map_err(pcp)?;
    }
    let stats = w.finish().map_err(pcp)?;
    drop(quiet);
    for t in temps.iter() {
        // libpcp_import writes all three files; check before renaming any
        if !t.exists() {
            return Err(fatal_out(format!("archive file {} missing", t.display())));
        }
    }
    for (t, f) in temps.iter().zip(finals) {
        std::fs::rename(t, f).map_err(|e| {
            fatal_out(format!(
                "cannot rename {} to {}: {e}",
                t.display(),
                f.display()
            ))
        })?;
    }
    report_unimported(&benches, &inputs);
    let runs: std::collections::HashSet<(usize, &str)> = benches
        .iter()
        .map(|b| (b.file, b.run_id.as_str()))
        .collect();
    let mut windows = String::new();
    for (b, inst) in benches.iter().zip(&insts) {
        windows.push('\n');
        windows.push_str(&window_line(&inst.name, b.start, b.end));
    }
    Ok(format!(
        "{PROG}: wrote {out_name} (v{}, host {host}, {} timezone): {} benchmarks in {} run(s) from {} file(s), {} request records, {} archive records ({} values, {} metrics), {} .. {} UTC ({:.1} s){windows}",
        o.archive_version,
        o.timezone,
        stats.benchmarks,
        runs.len(),
        inputs.len(),
        stats.records_in,
        stats.writes,
        stats.values,
        stats.metrics,
        utc(stats.first),
        utc(stats.last),
        stats.last - stats.first
    ))
}

/// A benchmark's window as options of PCP's reporting tools (pmrep, pmval, pmdumplog,
/// pmlogextract): `  NAME: -S '@YYYY-MM-DD HH:MM:SS' -T '@…' -Z UTC`, whole seconds around it
/// (pmrep takes no fraction there), in UTC whatever the archive's timezone.
pub fn window_line(name: &str, start: f64, end: f64) -> String {
    let at = |t: f64| utc(t)[..19].to_string();
    format!(
        "  {name}: -S '@{}' -T '@{}' -Z UTC",
        at(start.floor()),
        at(end.ceil())
    )
}

/// Which GuideLLM run a benchmark belongs to: its file and run id.
fn run_key(b: &Benchmark) -> (usize, &str) {
    (b.file, b.run_id.as_str())
}

/// One line on stderr per input file that holds values no metric took (a newer GuideLLM's
/// additions): the import goes on, but says what it left out.
fn report_unimported(benches: &[Benchmark], inputs: &[InputInfo]) {
    const SHOWN: usize = 12;
    for (i, input) in inputs.iter().enumerate() {
        let paths: std::collections::BTreeSet<&str> = benches
            .iter()
            .filter(|b| b.file == i)
            .flat_map(|b| b.unimported.iter().map(String::as_str))
            .collect();
        if paths.is_empty() {
            continue;
        }
        let mut list: Vec<String> = paths
            .iter()
            .take(SHOWN)
            .map(|p| format!("benchmarks[].{p}"))
            .collect();
        if paths.len() > SHOWN {
            list.push(format!("and {} more", paths.len() - SHOWN));
        }
        eprintln!(
            "{PROG}: {}: note: not imported (unknown to this version of {PROG}): {}",
            input.name,
            list.join(", ")
        );
    }
}

/// Print `text` and a newline. A reader that went away (`guidellm2pcp --help | head -1`) is
/// not an error of ours: stop writing quietly instead of panicking as `println!` does.
fn print_to_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// The whole program: parse arguments, run, print; returns the exit status.
pub fn main_with_args(args: &[String]) -> i32 {
    let o = match parse_args(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print_to_stdout(USAGE);
            return 0;
        }
        Err(f) => {
            eprintln!("{}", f.message());
            return f.exit_code();
        }
    };
    match run(&o) {
        Ok(summary) => {
            if !o.quiet {
                print_to_stdout(&summary);
            }
            0
        }
        Err(f) => {
            eprintln!("{}", f.message());
            f.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00.000");
        assert_eq!(utc(1795511704.1918879), "2026-11-24 09:15:04.192");
    }

    #[test]
    fn temp_names() {
        assert_eq!(temp_owner(".run.tmp123.meta"), Some(123));
        assert_eq!(temp_owner(".a.b.tmp7.0"), Some(7));
        assert_eq!(temp_owner(".run.tmp123.1"), None);
        assert_eq!(temp_owner("run.tmp123.0"), None);
        assert_eq!(temp_owner(".run.tmpx.0"), None);
        assert_eq!(temp_owner("..tmp5.0"), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16M"), Some(16 << 20));
        assert_eq!(parse_size("64KiB"), Some(64 << 10));
        assert_eq!(parse_size("2048"), Some(2048));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("10"), None);
        assert_eq!(parse_size("5G"), None);
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn windows() {
        assert_eq!(
            window_line("0 concurrent@2", 1795511704.1918879, 1795511709.1918879),
            "  0 concurrent@2: -S '@2026-11-24 09:15:04' -T '@2026-11-24 09:15:10' -Z UTC"
        );
    }

    #[test]
    fn args() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = a(&["x.json", "-o", "out/a.meta", "-i", "500ms"])
            .unwrap()
            .unwrap();
        assert_eq!(o.output, PathBuf::from("out/a"));
        assert_eq!(o.interval, 0.5);
        assert!(matches!(a(&["x.json"]), Err(Failure::Usage(_))));
        assert!(matches!(a(&["-o", "a"]), Err(Failure::Usage(_))));
        assert!(matches!(
            a(&["x", "-o", "a", "-V", "4"]),
            Err(Failure::Usage(_))
        ));
        assert!(a(&["--help"]).unwrap().is_none());
    }
}
