//! `pmdallm`: the PCP agent. Started by pmcd (see pmda/Install); `--generate DIR` writes the
//! files generated from the metric catalogue, `--check-config FILE` validates a configuration.
#![forbid(unsafe_code)]

use llm_agent::answer::Answering;
use llm_agent::catalogue::{self, generate};
use llm_agent::sources::scheduler;
use llm_agent::{self as agent, config::Config, store};
use pcp::{self, pmda};
use std::path::{Path, PathBuf};
use std::process::exit;

const USAGE: &str = "Usage: pmdallm [options]

Options (PCP's standard PMDA options, see pmda(3) and pmdallm(1)):
  -c FILE   configuration file (default $PCP_SYSCONF_DIR/llm/llm.conf)
  -d NUM    domain number of the agent
  -D DBG    PCP debugging options
  -l FILE   log file (default llm.log in pmcd's log directory)
  -U USER   run as USER after start-up (default: PCP's user, normally pcp)
  -i PORT   expect pmcd on an inet socket   -6 PORT  on an IPv6 socket
  -u FILE   expect pmcd on a unix socket    -p       on a pipe (the default)

Other modes:
  pmdallm --check-config FILE    report errors in FILE, exit 1 if there are any
  pmdallm --generate DIR         write pmns, help, domain.h, pmlogconf groups under DIR
  pmdallm --version";

fn default_config_path() -> PathBuf {
    let dir = pcp::config_var("PCP_SYSCONF_DIR").unwrap_or_else(|| "/etc/pcp".into());
    Path::new(&dir).join("llm/llm.conf")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--generate") => {
            let Some(dir) = args.get(2) else {
                fail_usage("--generate needs a directory")
            };
            match generate::write_all(Path::new(dir)) {
                Ok(n) => println!("pmdallm: wrote {n} generated files under {dir}"),
                Err(e) => {
                    eprintln!("pmdallm: --generate {dir}: {e}");
                    exit(1)
                }
            }
            return;
        }
        Some("--check-config") => {
            let Some(file) = args.get(2) else {
                fail_usage("--check-config needs a file")
            };
            let cfg = Config::load(Some(Path::new(file)), &default_config_path());
            let user = agent_user(None);
            let account = agent::files::account(&user);
            let (file_errors, warnings) = cfg.check_files(account.as_ref());
            let errors: Vec<&String> = cfg.errors.iter().chain(&file_errors).collect();
            for e in &errors {
                eprintln!("pmdallm: {e}");
            }
            for w in &warnings {
                eprintln!("pmdallm: warning: {w}");
            }
            if account.is_none() {
                eprintln!("pmdallm: warning: no user {user}: file permissions not checked");
            }
            if errors.is_empty() {
                println!("pmdallm: {file}: configuration is valid");
            }
            exit(if errors.is_empty() { 0 } else { 1 });
        }
        Some("--version") => {
            println!("pmdallm {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Some("--help") | Some("-?") => {
            println!("{USAGE}");
            return;
        }
        _ => {}
    }
    run_agent(&args)
}

/// The user the agent runs as: -U, else PCP's user.
fn agent_user(option: Option<&str>) -> String {
    option
        .map(str::to_string)
        .or_else(|| pcp::config_var("PCP_USER"))
        .unwrap_or_else(|| "pcp".into())
}

fn fail_usage(msg: &str) -> ! {
    eprintln!("pmdallm: {msg}\n{USAGE}");
    exit(2)
}

fn run_agent(args: &[String]) -> ! {
    llm_sys::heap::bound_heap();
    // Before any other thread starts: they inherit the blocked signals.
    if let Err(e) = llm_sys::signals::watch(pmda::log) {
        eprintln!("pmdallm: {e}");
        exit(1);
    }
    let pmdas_dir = pcp::config_var("PCP_PMDAS_DIR").unwrap_or_else(|| "/var/lib/pcp/pmdas".into());
    let helpfile = format!("{pmdas_dir}/llm/help");
    let mut agent = match pmda::connect(args, catalogue::DOMAIN, &helpfile) {
        Ok(a) => a,
        Err(e) => fail_usage(&e),
    };
    if let Err(e) = agent::single_instance::check() {
        eprintln!("pmdallm: {e}");
        exit(1);
    }
    if let Err(e) = agent.open() {
        eprintln!("pmdallm: {e}");
        exit(1);
    }
    let config_path = agent.options.config.as_ref().map(PathBuf::from);
    let config = Config::load(config_path.as_deref(), &default_config_path());
    for e in &config.errors {
        pmda::log("Warning", e);
    }
    let user = agent_user(agent.options.username.as_deref());
    let (errors, warnings) = config.check_files(agent::files::account(&user).as_ref());
    for w in errors.iter().chain(&warnings) {
        pmda::log("Warning", w);
    }
    let plan = agent::plan(&config);
    let fingerprints: Vec<String> = plan.iter().map(|p| p.fingerprint.clone()).collect();
    // Privileged set-up (perf counters, token files) happens while creating sources; then
    // drop root.
    let sources: Vec<_> = plan.into_iter().map(|p| (p.make)()).collect();
    if let Err(e) = agent.drop_privileges() {
        pmda::log("Error", &e);
        exit(1);
    }
    let (infos, updates, scheduler) = scheduler::start(sources);
    let mut store = store::Store::new(infos, agent::config_status(&config));
    let var_dir = pcp::config_var("PCP_VAR_DIR").unwrap_or_else(|| "/var/lib/pcp".into());
    for line in store.load_dynamic(Path::new(&var_dir).join("config/pmda/llm.dynamic")) {
        pmda::log("Info", &line);
    }
    let running = agent::Running::new(
        scheduler,
        fingerprints,
        config_path,
        default_config_path(),
        config,
    );
    agent.serve(Box::new(Answering::new(store, updates, running)))
}
