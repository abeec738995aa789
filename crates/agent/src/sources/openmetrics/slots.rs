//! Dense slots for the keys a scrape's mapping meets (a value's (metric, instance), a
//! histogram series), found without hashing when the scrape follows the last one.
//!
//! A scrape with the shape of the one before (see `shape.rs`) meets the same keys in the same
//! order, values aside. [`Slots`] records, for each key met, its slot and whether it was new;
//! the next scrape replays that record, checking each key against it, and uses a hash index
//! only from the moment it stops following (the index is then built from the keys met so
//! far). With the caches cold, as they are after a second spent on other endpoints, hashing
//! every key into a table built afresh was a tenth of the agent's CPU.

use crate::fast_hash::FastMap;
use std::hash::Hash;

/// Marks, in [`Memo::slots`], a key met for the first time.
const NEW: u32 = 1 << 31;

/// What a mapping met: each key's slot in the order met, and the keys in slot order.
#[derive(Debug)]
pub(super) struct Memo<K> {
    slots: Vec<u32>,
    keys: Vec<K>,
}

impl<K> Default for Memo<K> {
    fn default() -> Self {
        Memo {
            slots: Vec::new(),
            keys: Vec::new(),
        }
    }
}

impl<K> Memo<K> {
    /// The number of distinct keys met.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Slots of the keys met while one scrape is mapped.
#[derive(Debug)]
pub(super) struct Slots<K> {
    /// This scrape's.
    met: Memo<K>,
    /// The last scrape's, while this one follows it.
    replay: Option<Memo<K>>,
    /// Slot of each key met, once this scrape does not follow (or has nothing to follow).
    index: FastMap<K, u32>,
}

impl<K> Default for Slots<K> {
    fn default() -> Self {
        Slots {
            met: Memo::default(),
            replay: None,
            index: FastMap::default(),
        }
    }
}

impl<K: Copy + Eq + Hash> Slots<K> {
    /// Slots that follow `last` (what [`Slots::into_memo`] gave for the last scrape).
    pub fn following(last: Memo<K>) -> Slots<K> {
        Slots {
            met: Memo {
                slots: Vec::with_capacity(last.slots.len()),
                keys: Vec::with_capacity(last.keys.len()),
            },
            replay: Some(last),
            index: FastMap::default(),
        }
    }

    /// The slot of `key`, and whether it is new (its slot is then `self.len() - 1`).
    pub fn slot(&mut self, key: K) -> (usize, bool) {
        let (slot, new) = match self.replayed(key) {
            Some(found) => found,
            None => self.indexed(key),
        };
        self.met.slots.push(slot | if new { NEW } else { 0 });
        if new {
            self.met.keys.push(key);
        }
        (slot as usize, new)
    }

    /// The keys in slot order.
    pub fn keys(&self) -> &[K] {
        &self.met.keys
    }

    /// Whether every key met so far followed the last scrape, and there were as many.
    pub fn followed(&self) -> bool {
        self.replay
            .as_ref()
            .is_some_and(|r| r.slots.len() == self.met.slots.len())
    }

    /// What this scrape met, for the next one to follow.
    pub fn into_memo(self) -> Memo<K> {
        self.met
    }

    fn replayed(&mut self, key: K) -> Option<(u32, bool)> {
        let replay = self.replay.as_ref()?;
        if let Some(&m) = replay.slots.get(self.met.slots.len()) {
            let (slot, new) = (m & !NEW, m & NEW != 0);
            // A new key must take the next slot, and be the key the last scrape had there
            // (so it is not one met already); a known one must be the key in its slot.
            let expected = if new {
                (slot as usize == self.met.keys.len()).then(|| replay.keys.get(slot as usize))
            } else {
                Some(self.met.keys.get(slot as usize))
            };
            if expected.flatten() == Some(&key) {
                return Some((slot, new));
            }
        }
        self.replay = None;
        self.index = (0u32..).zip(&self.met.keys).map(|(s, k)| (*k, s)).collect();
        None
    }

    fn indexed(&mut self, key: K) -> (u32, bool) {
        let next = self.met.keys.len() as u32;
        match self.index.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => (*e.get(), false),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(next);
                (next, true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots `keys` get, each with whether it was new, and the memo for the next run.
    fn run(last: Option<Memo<u8>>, keys: &[u8]) -> (Vec<(usize, bool)>, bool, Memo<u8>) {
        let mut s = match last {
            Some(m) => Slots::following(m),
            None => Slots::default(),
        };
        let got = keys.iter().map(|k| s.slot(*k)).collect();
        let followed = s.followed();
        (got, followed, s.into_memo())
    }

    #[test]
    fn keys_get_the_slots_an_index_gives_whether_or_not_they_follow() {
        let first = b"abacb";
        for other in [
            &b"abacb"[..],
            b"aabcb",
            b"bab",
            b"abacbd",
            b"aba",
            b"",
            b"cab",
            b"abcab",
        ] {
            let (_, _, memo) = run(None, first);
            let (got, followed, _) = run(Some(memo), other);
            let (want, _, _) = run(None, other);
            assert_eq!(got, want, "{:?}", std::str::from_utf8(other));
            assert_eq!(followed, other == first, "{:?}", std::str::from_utf8(other));
        }
    }
}
