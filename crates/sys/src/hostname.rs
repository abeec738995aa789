//! The local host's name, as PCP names it in archives (for `guidellm2pcp`'s default).

/// This host's name as pmlogger records it for its local pmcd: pmcd's `pmcd.hostname`, which
/// is `gethostname(2)` resolved to its canonical name (`getaddrinfo` with `AI_CANONNAME`, as
/// PCP's pmhostname(1) does), or the `gethostname` result itself when that lookup fails.
pub fn local() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len() - 1) };
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len() - 1);
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if rc != 0 || name.is_empty() {
        return "localhost".into();
    }
    canonical_name(&name).unwrap_or(name)
}

/// The canonical name of `host` from the resolver, if it has one.
fn canonical_name(host: &str) -> Option<String> {
    let c = std::ffi::CString::new(host).ok()?;
    // SAFETY: zeroed addrinfo is a valid "no hints" value; we set flags only.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = libc::AF_UNSPEC;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string and hints; res is freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list from getaddrinfo; ai_canonname is NUL-terminated or null.
    let name = unsafe {
        let cn = (*res).ai_canonname;
        let name =
            (!cn.is_null()).then(|| std::ffi::CStr::from_ptr(cn).to_string_lossy().into_owned());
        libc::freeaddrinfo(res);
        name
    };
    name.filter(|n| !n.is_empty())
}
