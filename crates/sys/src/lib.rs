//! The smallest safe shims over the system calls the agent and the tools need, so that every
//! other crate of the workspace can forbid `unsafe`: perf counters (`perf_event_open`), signal
//! handling threads, the host's canonical name, and the allocator's heap trimming.
#![allow(unsafe_code)]

pub mod child_signals;
pub mod heap;
pub mod hostname;
pub mod perf;
pub mod signals;
