//! Following a growing file line by line with bounded memory: the file may not exist yet, may
//! be truncated or replaced (then it is read again from its start), and may hold lines of any
//! length (longer ones are skipped and counted).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Longest line accepted, in bytes; longer lines are skipped and counted as malformed.
pub const MAX_LINE: usize = 4096;
/// Most bytes read from one file per sample (the rest waits for the next sample).
pub const MAX_READ: u64 = 1 << 20;

#[derive(Debug)]
pub struct Tail {
    pub path: PathBuf,
    /// Device and inode of the file being followed.
    pub identity: Option<(u64, u64)>,
    offset: u64,
    partial: Vec<u8>,
    /// The partial line is too long already: drop bytes until the next newline.
    skipping: bool,
}

/// What one read found.
#[derive(Debug, Default)]
pub struct Read1 {
    pub lines: Vec<String>,
    /// Lines that were too long or not UTF-8.
    pub malformed: u64,
    /// The file was new, truncated or replaced: whoever keeps state from it starts over.
    pub restarted: bool,
    /// The file's owner (uid) and modification time (seconds since the epoch).
    pub owner: u32,
    pub mtime: f64,
}

impl Tail {
    pub fn new(path: &Path) -> Tail {
        Tail {
            path: path.to_path_buf(),
            identity: None,
            offset: 0,
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// Reads what was appended since the last call. `Ok(None)` when the file does not exist.
    /// Symbolic links and anything but a regular file are refused (an error).
    pub fn read(&mut self) -> std::io::Result<Option<Read1>> {
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.identity = None;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut out = Read1 {
            owner: meta.uid(),
            mtime: meta.mtime() as f64 + meta.mtime_nsec() as f64 * 1e-9,
            ..Read1::default()
        };
        let identity = Some((meta.dev(), meta.ino()));
        if identity != self.identity || meta.len() < self.offset {
            self.identity = identity;
            self.offset = 0;
            self.partial.clear();
            self.skipping = false;
            out.restarted = true;
        }
        if meta.len() > self.offset {
            self.read_from(file, meta.len(), &mut out)?;
        }
        Ok(Some(out))
    }

    fn read_from(&mut self, mut file: File, len: u64, out: &mut Read1) -> std::io::Result<()> {
        file.seek(SeekFrom::Start(self.offset))?;
        let want = (len - self.offset).min(MAX_READ);
        let mut buf = Vec::with_capacity(want as usize);
        (&mut file).take(want).read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        let mut rest = &buf[..];
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (head, tail) = (&rest[..nl], &rest[nl + 1..]);
            rest = tail;
            if self.skipping {
                self.skipping = false;
                continue;
            }
            if self.partial.len() + head.len() > MAX_LINE {
                self.partial.clear();
                out.malformed += 1;
                continue;
            }
            self.partial.extend_from_slice(head);
            let line = std::mem::take(&mut self.partial);
            match String::from_utf8(line) {
                Ok(s) => out.lines.push(s),
                Err(_) => out.malformed += 1,
            }
        }
        if !self.skipping {
            if self.partial.len() + rest.len() > MAX_LINE {
                self.partial = Vec::new();
                self.skipping = true;
                out.malformed += 1;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn follows_appends_truncation_long_lines_and_a_late_file() {
        let dir = std::env::temp_dir().join(format!("tail-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        let mut t = Tail::new(&p);
        assert!(t.read().unwrap().is_none(), "no file yet");
        std::fs::write(&p, "a\nb").unwrap();
        let r = t.read().unwrap().unwrap();
        assert!(r.restarted);
        assert_eq!(r.lines, vec!["a"]);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        write!(f, "c\n{}\nd\n", "x".repeat(MAX_LINE + 10)).unwrap();
        let r = t.read().unwrap().unwrap();
        assert!(!r.restarted);
        assert_eq!(r.lines, vec!["bc", "d"]);
        assert_eq!(r.malformed, 1);
        std::fs::write(&p, "e\n").unwrap();
        let r = t.read().unwrap().unwrap();
        assert!(r.restarted, "truncated and rewritten: from the start");
        assert_eq!(r.lines, vec!["e"]);
        std::os::unix::fs::symlink(&p, dir.join("l")).unwrap();
        assert!(
            Tail::new(&dir.join("l")).read().is_err(),
            "links are refused"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
