//! Checks of the files llm.conf names (token and CA files) before the agent starts: do they
//! exist, can the agent's user read them, can other users read a secret.
//!
//! The agent runs as PCP's user (normally `pcp`). The PCP way to keep a token private and
//! readable is owner root, group pcp, mode 0640. A file only root can read also works: the
//! agent opens it as root at start-up, before it drops privileges, and reads it through that
//! descriptor (so a file replaced later is not seen until the agent restarts).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// A local user: ids and groups, from /etc/passwd and /etc/group.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// Looks `name` up in /etc/passwd and /etc/group (PCP's user is a local one).
pub fn account(name: &str) -> Option<Account> {
    account_from(
        name,
        &std::fs::read_to_string("/etc/passwd").ok()?,
        &std::fs::read_to_string("/etc/group").unwrap_or_default(),
    )
}

fn account_from(name: &str, passwd: &str, group: &str) -> Option<Account> {
    let f: Vec<&str> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && f[0] == name)?;
    let uid = f[2].parse().ok()?;
    let gid = f[3].parse().ok()?;
    let mut groups = vec![gid];
    for l in group.lines() {
        let g: Vec<&str> = l.split(':').collect();
        if g.len() >= 4
            && g[3].split(',').any(|m| m == name)
            && let Ok(id) = g[2].parse()
        {
            groups.push(id);
        }
    }
    Some(Account {
        name: name.to_string(),
        uid,
        gid,
        groups,
    })
}

/// Whether `account` may read a file of this owner, group and mode (root reads everything).
pub fn readable_by(account: &Account, uid: u32, gid: u32, mode: u32) -> bool {
    if account.uid == 0 {
        true
    } else if account.uid == uid {
        mode & 0o400 != 0
    } else if account.groups.contains(&gid) {
        mode & 0o040 != 0
    } else {
        mode & 0o004 != 0
    }
}

/// What is wrong with a file llm.conf names: errors (it cannot be used) and warnings.
/// `secret` files must not be readable by other users.
pub fn check_file(
    path: &Path,
    secret: bool,
    account: Option<&Account>,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(format!("{shown}: {e}"));
            return;
        }
    };
    if !meta.is_file() {
        errors.push(format!("{shown}: not a regular file"));
        return;
    }
    let mode = meta.permissions().mode() & 0o777;
    if let Some(a) = account
        && !readable_by(a, meta.uid(), meta.gid(), mode)
    {
        let hint = format!(
            "give it group {} and mode 0640 (chgrp {} {shown}; chmod 0640 {shown})",
            a.name, a.name
        );
        if meta.uid() == 0 && secret {
            warnings.push(format!(
                "{shown}: not readable by user {}: the agent reads it once as root when it \
starts, and does not see it replaced until it restarts; {hint}",
                a.name
            ));
        } else {
            errors.push(format!(
                "{shown}: not readable by user {} (owner {}, group {}, mode {mode:04o}); {hint}",
                a.name,
                meta.uid(),
                meta.gid()
            ));
        }
    }
    if secret && mode & 0o004 != 0 {
        warnings.push(format!(
            "{shown}: readable by every user (mode {mode:04o}): a secret should be mode 0640, \
owner root, group {}",
            account.map_or("pcp", |a| a.name.as_str())
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_permissions() {
        let a = account_from(
            "pcp",
            "root:x:0:0::/root:/bin/sh\npcp:x:999:995::/var/lib/pcp:/bin/false\n",
            "pcp:x:995:\nadm:x:4:syslog,pcp\n",
        )
        .unwrap();
        assert_eq!((a.uid, a.gid, a.groups.clone()), (999, 995, vec![995, 4]));
        assert!(readable_by(&a, 0, 995, 0o640), "root:pcp 0640");
        assert!(!readable_by(&a, 0, 0, 0o600), "root:root 0600");
        assert!(readable_by(&a, 0, 4, 0o640), "a supplementary group");
        assert!(readable_by(&a, 0, 0, 0o644));
        assert!(readable_by(&a, 999, 0, 0o400));
        assert!(!readable_by(&a, 999, 995, 0o040), "the owner's bits decide");
        assert!(account_from("nobody", "pcp:x:1:1::/:/\n", "").is_none());
    }

    #[test]
    fn secret_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("pmdallm-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        std::fs::write(&f, "t").unwrap();
        let me = Account {
            name: "someone".into(),
            uid: 4242,
            gid: 4242,
            groups: vec![4242],
        };
        let check = |mode: u32| {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let (mut e, mut w) = (Vec::new(), Vec::new());
            check_file(&f, true, Some(&me), &mut e, &mut w);
            (e, w)
        };
        let (e, w) = check(0o644);
        assert!(e.is_empty(), "{e:?}");
        assert!(w[0].contains("readable by every user (mode 0644)"), "{w:?}");
        let (e, w) = check(0o600);
        // Owned by whoever runs the test, not by `someone`.
        assert_eq!(e.len() + w.len(), 1, "{e:?} {w:?}");
        assert!(
            e.iter()
                .chain(&w)
                .all(|m| m.contains("not readable by user someone")),
            "{e:?} {w:?}"
        );
        let (mut e, mut w) = (Vec::new(), Vec::new());
        check_file(&dir.join("missing"), true, Some(&me), &mut e, &mut w);
        assert!(
            e[0].ends_with("No such file or directory (os error 2)"),
            "{e:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
