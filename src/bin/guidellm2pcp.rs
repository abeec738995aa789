//! `guidellm2pcp`: import GuideLLM result files into a PCP archive (see man/guidellm2pcp.1).

fn main() {
    eprintln!("Usage: guidellm2pcp [options] RESULTS... -o ARCHIVE\n(not implemented yet)");
    std::process::exit(2);
}
