//! The allocator's behaviour for a long-running agent whose buffers can briefly be large.

/// Makes glibc give large blocks their own mappings, returned to the system when freed. By
/// default glibc raises that threshold (up to 32 MiB) each time such a block is freed, after
/// which a 16 MiB body buffer comes from a thread's heap, whose top is then never trimmed: the
/// agent's RSS would keep the largest body it ever read. Also caps the number of heaps.
/// Called once at start-up.
pub fn bound_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
        // One heap per source thread (glibc's default, up to 8 per core) keeps each one's
        // free pages resident; two are plenty for threads that mostly sleep.
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands free heap memory back to the system (glibc's `malloc_trim`), after a large buffer
/// was freed, so the agent's RSS returns to its steady level.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
