//! A fast hash for the agent's small keys (integers, PMIDs, instance ids, family names): with
//! SipHash, hashing was a third of a scrape's mapping and a good part of applying a sample to
//! the store.
//!
//! Instance ids come from names an endpoint chooses, so a hostile endpoint could pick names
//! whose ids fill one hash bucket and make every insert walk them all. Each word is therefore
//! mixed by a folded 128-bit multiply (every input bit reaches the low bits a table indexes
//! by) from a seed drawn once per process, which such an endpoint cannot know.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::OnceLock;

const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// The low and high halves of the 128-bit product, folded together.
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The process's seed, drawn from the standard library's random keys on first use.
fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64) | 1)
}

#[derive(Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        folded_multiply(self.0, K)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
        self.write_u64(bytes.len() as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = folded_multiply(self.0 ^ n, K);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
}

/// Builds [`FastHasher`]s from the process's seed.
#[derive(Clone, Copy)]
pub struct Fast(u64);

impl Default for Fast {
    fn default() -> Self {
        Fast(process_seed())
    }
}

impl BuildHasher for Fast {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

pub type FastMap<K, V> = HashMap<K, V, Fast>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_alike_in_their_low_bits_spread_over_the_table() {
        // 4096 instance ids that share their low 18 bits (what a chosen-name attack makes):
        // a hash that kept them together would put them all in one bucket of a small table.
        let build = Fast::default();
        let buckets: std::collections::HashSet<u64> = (0..4096u32)
            .map(|i| build.hash_one((i << 18) | 0x2_a5a5) & 0xfff)
            .collect();
        assert!(buckets.len() > 2000, "{} of 4096 buckets", buckets.len());
    }

    #[test]
    fn the_seed_is_the_same_within_a_process() {
        let (a, b) = (Fast::default(), Fast::default());
        assert_eq!(a.hash_one(42u32), b.hash_one(42u32));
        assert_ne!(a.hash_one(42u32), a.hash_one(43u32));
    }
}
