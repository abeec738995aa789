//! `pcp llm`: `run` records a benchmark run in the spool the agent follows, `mark` marks a
//! phase from inside it, `compare` writes the comparison tables of benchmark reports.
#![forbid(unsafe_code)]

pub mod compare;
pub mod run;
