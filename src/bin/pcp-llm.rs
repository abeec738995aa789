//! `pcp-llm`: the `pcp llm ...` commands (PCP's `pcp` runs `$PCP_BINADM_DIR/pcp-llm`); see
//! man/pcp-llm.1. Subcommands: `compare`, `run`, `mark`.
#![forbid(unsafe_code)]

use std::io::Write;

const USAGE: &str = "Usage: pcp llm COMMAND [options] ...

Commands:
  compare    compare GuideLLM results of several configurations (pcp llm compare --help)
  run        run a benchmark command and record it for pmdallm (pcp llm run --help)
  mark       mark a phase of the run from inside it (pcp llm mark TEXT)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("compare") => pcp_llm::compare::main_with_args(&args[1..]),
        Some("run") => pcp_llm::run::run_main(&args[1..]),
        Some("mark") => pcp_llm::run::mark_main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            // a closed stdout (--help | head -1) is not an error
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            0
        }
        Some(other) => {
            eprintln!(
                "pcp-llm: unknown command {other:?} (this version has: compare, run, mark)\n{USAGE}"
            );
            2
        }
        None => {
            eprintln!("pcp-llm: no command given\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}
