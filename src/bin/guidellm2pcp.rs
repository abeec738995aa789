//! `guidellm2pcp`: import GuideLLM result files into a PCP archive (see man/guidellm2pcp.1).
#![forbid(unsafe_code)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(guidellm::main_with_args(&args));
}
