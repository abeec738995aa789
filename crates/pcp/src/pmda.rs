//! A daemon PMDA over libpcp_pmda, answering every request from an [`Agent`].
//!
//! libpcp_pmda is not thread-safe, so everything here runs on the one thread that called
//! [`Connection::serve`]; its state lives in a `thread_local`. Each PDU first lets the agent
//! [`Agent::refresh`] (it must never wait), then answers from what the agent holds. Callbacks
//! catch panics so that none unwinds into C.

use super::ffi::*;
use super::{Semantics, Type, Units};
use libc::{c_char, c_int, c_uint};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::panic::{AssertUnwindSafe, catch_unwind};

unsafe extern "C" {
    fn pmdaSetFlags(dispatch: *mut pmdaInterface, flags: c_int);
    fn pmdaRehash(ext: *mut pmdaExt, metrics: *mut pmdaMetric, nmetrics: c_int);
}
const PMDA_EXT_FLAG_HASHED: c_int = 1 << 1;
const PMDA_EXT_NAMES_CHANGE: c_int = 1 << 6;

/// The instance id of a metric without instances (PCP's `PM_IN_NULL`).
pub const IN_NULL: u32 = u32::MAX;

/// A value ready to hand to PCP: strings are kept NUL-terminated by the agent, so a fetch
/// copies nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(CString),
}

/// A metric as libpcp_pmda needs it: name, PMID parts, descriptor and help text.
#[derive(Debug, Clone, Copy)]
pub struct MetricDesc<'a> {
    pub name: &'a str,
    pub cluster: u32,
    pub item: u32,
    pub ty: Type,
    pub sem: Semantics,
    pub units: Units,
    /// The instance domain's serial, for metrics with instances.
    pub indom: Option<u32>,
    pub oneline: &'a str,
    pub help: &'a str,
}

/// What the PMDA layer asks of the agent it serves. Metrics are addressed by their index in
/// the agent's list, which only ever grows (names found at run time are appended); instance
/// domains by their serial number.
pub trait Agent {
    /// Applies what arrived since the last call (source updates, a configuration re-read);
    /// returns lines for the log. Called before every PDU and once a second; must not wait.
    fn refresh(&mut self) -> Vec<String>;
    /// Changes whenever metrics were appended.
    fn names_generation(&self) -> u64;
    fn metric_count(&self) -> usize;
    fn metric(&self, index: usize) -> MetricDesc<'_>;
    /// The index of the metric with this PMID (without the domain).
    fn index_of(&self, local_pmid: u32) -> Option<usize>;
    /// The current value of a metric's instance ([`IN_NULL`] for a metric without instances).
    fn value(&self, index: usize, inst: u32) -> Option<&Atom>;
    /// Called once per fetch PDU.
    fn count_fetch(&mut self);
    fn indom_serials(&self) -> Vec<u32>;
    /// Changes whenever the instances of the domain change.
    fn indom_generation(&self, serial: u32) -> Option<u64>;
    /// The domain's instances, id and name, in id order.
    fn instances(&self, serial: u32) -> Vec<(u32, String)>;
    /// An instance's labels as one JSON object.
    fn instance_labels(&self, serial: u32, inst: u32) -> Option<String>;
    /// The one-line and long help of an instance domain.
    fn indom_help(&self, serial: u32) -> Option<(&str, &str)>;
}

/// Options of the agent, after PCP's standard ones were given to libpcp_pmda.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub config: Option<String>,
    pub username: Option<String>,
    pub domain: u32,
}

/// Writes one line to the agent's log (stderr, which `pmdaOpenLog` points at the log file) in
/// PCP's format: `[Tue Nov 24 11:19:39] pmdallm(1234) Info: message`.
pub fn log(level: &str, msg: &str) {
    let mut t: libc::time_t = 0;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let mut buf = [0u8; 64];
    // SAFETY: time/localtime_r/strftime write into the local buffers given.
    let n = unsafe {
        libc::time(&mut t);
        libc::localtime_r(&t, &mut tm);
        libc::strftime(
            buf.as_mut_ptr() as *mut c_char,
            buf.len(),
            c"%a %b %e %H:%M:%S".as_ptr(),
            &tm,
        )
    };
    let stamp = String::from_utf8_lossy(&buf[..n]);
    eprintln!("[{stamp}] pmdallm({}) {level}: {msg}", std::process::id());
}

struct State {
    agent: Box<dyn Agent>,
    ext: *mut pmdaExt,
    domain: u32,
    /// The store's names generation our tables reflect, and how many metrics are in the tree.
    names_generation: u64,
    names_in_tree: usize,
    /// The metric table given to pmdaRehash (kept alive until the next one replaces it).
    metric_table: Vec<pmdaMetric>,
    /// The namespace, for agents that ask us (dbpmda's `children`, a `dyn` PMNS entry).
    names: *mut pmdaNameSpace,
    indoms: &'static mut [pmdaIndom],
    /// indom serial -> (position in `indoms`, generation installed, storage for names)
    indom_slots: HashMap<u32, (usize, u64, Vec<pmdaInstid>, Vec<CString>)>,
    help: HashMap<(c_int, c_int), CString>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

impl State {
    /// Lets the agent apply what arrived and brings the C tables up to date.
    fn refresh(&mut self) {
        for line in self.agent.refresh() {
            log("Info", &line);
        }
        self.sync_indoms();
        if self.agent.names_generation() != self.names_generation {
            self.add_new_names();
        }
    }

    /// Metrics found at run time: rebuild the metric table with full PMIDs and indoms (as
    /// pmdaRehash requires), add the names to the tree, and tell pmcd the namespace changed.
    fn add_new_names(&mut self) {
        let domain = self.domain;
        let count = self.agent.metric_count();
        let mut table: Vec<pmdaMetric> = (0..count)
            .map(|i| {
                let m = self.agent.metric(i);
                metric_entry(i, &m, super::pmid(domain, m.cluster, m.item), |s| {
                    super::indom(domain, s)
                })
            })
            .collect();
        // SAFETY: ext is the agent's pmdaExt; the table outlives its use (kept in self until
        // the next rehash replaces it); names are copied by pmdaTreeInsert.
        unsafe {
            pmdaRehash(self.ext, table.as_mut_ptr(), table.len() as c_int);
            for i in self.names_in_tree..count {
                let m = self.agent.metric(i);
                let cname = CString::new(m.name).unwrap_or_default();
                pmdaTreeInsert(
                    self.names,
                    super::pmid(domain, m.cluster, m.item),
                    cname.as_ptr(),
                );
            }
            pmdaTreeRebuildHash(self.names, count as c_int);
            pmdaExtSetFlags(self.ext, PMDA_EXT_NAMES_CHANGE);
        }
        log(
            "Info",
            &format!(
                "{} new metric names under llm.other",
                count - self.names_in_tree
            ),
        );
        self.names_in_tree = count;
        self.metric_table = table;
        self.names_generation = self.agent.names_generation();
    }

    fn sync_indoms(&mut self) {
        for (serial, slot) in self.indom_slots.iter_mut() {
            let Some(generation) = self.agent.indom_generation(*serial) else {
                continue;
            };
            if generation == slot.1 {
                continue;
            }
            let instances = self.agent.instances(*serial);
            let names: Vec<CString> = instances
                .iter()
                .map(|(_, name)| CString::new(name.replace('\0', "")).unwrap_or_default())
                .collect();
            let set: Vec<pmdaInstid> = instances
                .iter()
                .zip(names.iter())
                .map(|((id, _), n)| pmdaInstid {
                    i_inst: *id as c_int,
                    i_name: n.as_ptr() as *mut c_char,
                })
                .collect();
            slot.1 = generation;
            slot.3 = names;
            slot.2 = set;
            let entry = &mut self.indoms[slot.0];
            entry.it_numinst = slot.2.len() as c_int;
            entry.it_set = if slot.2.is_empty() {
                std::ptr::null_mut()
            } else {
                slot.2.as_mut_ptr()
            };
        }
    }
}

fn guarded<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log("Error", "internal error: a callback panicked");
        fallback
    })
}

unsafe extern "C" fn fetch_cb(
    metric: *mut pmdaMetric,
    inst: c_uint,
    atom: *mut pmAtomValue,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        // SAFETY: libpcp_pmda passes an entry of the metric table we built, and a valid atom.
        let (index, atom) = unsafe { ((*metric).m_user as usize, &mut *atom) };
        with_state(|st| match st.agent.value(index, inst) {
            None => PMDA_FETCH_NOVALUES,
            Some(v) => {
                match v {
                    Atom::U32(x) => atom.ul = *x,
                    Atom::I32(x) => atom.l = *x,
                    Atom::U64(x) => atom.ull = *x,
                    Atom::I64(x) => atom.ll = *x,
                    Atom::F64(x) => atom.d = *x,
                    // The agent keeps the string alive until the next PDU is processed.
                    Atom::Str(s) => atom.cp = s.as_ptr() as *mut c_char,
                }
                PMDA_FETCH_STATIC
            }
        })
        .unwrap_or(PM_ERR_PMID)
    })
}

unsafe extern "C" fn fetch(
    n: c_int,
    pmids: *mut pmID,
    resp: *mut *mut pmResult,
    ext: *mut pmdaExt,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        with_state(|st| {
            st.refresh();
            st.agent.count_fetch();
        });
        // SAFETY: arguments come straight from libpcp_pmda; no RefCell borrow is held here, so
        // the fetch callback can borrow the state.
        unsafe { pmdaFetch(n, pmids, resp, ext) }
    })
}

unsafe extern "C" fn instance(
    indom: pmInDom,
    inst: c_int,
    name: *mut c_char,
    result: *mut *mut pmInResult,
    ext: *mut pmdaExt,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        with_state(State::refresh);
        // SAFETY: as for fetch.
        unsafe { pmdaInstance(indom, inst, name, result, ext) }
    })
}

unsafe extern "C" fn text(
    ident: c_int,
    kind: c_int,
    buffer: *mut *mut c_char,
    _ext: *mut pmdaExt,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        with_state(|st| {
            let key = (ident, kind);
            let text = match st.help.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let Some(s) = help_text(st.agent.as_ref(), ident as u32, kind) else {
                        return PM_ERR_TEXT;
                    };
                    v.insert(CString::new(s.replace('\0', " ")).unwrap_or_default())
                }
            };
            // SAFETY: buffer is a valid out-pointer; the CString lives as long as the state.
            unsafe { *buffer = text.as_ptr() as *mut c_char };
            0
        })
        .unwrap_or(PM_ERR_TEXT)
    })
}

fn help_text(agent: &dyn Agent, ident: u32, kind: c_int) -> Option<String> {
    let local = ident & 0x3f_ffff;
    let oneline = kind & PM_TEXT_ONELINE != 0;
    if kind & PM_TEXT_PMID != 0 {
        let m = agent.metric(agent.index_of(local)?);
        Some(if oneline {
            m.oneline.to_string()
        } else {
            m.help.to_string()
        })
    } else if kind & PM_TEXT_INDOM != 0 {
        let (short, long) = agent.indom_help(local)?;
        Some(if oneline {
            short.to_string()
        } else {
            long.to_string()
        })
    } else {
        None
    }
}

/// The namespace tree, after applying pending updates (a name may have just appeared).
fn current_names() -> *mut pmdaNameSpace {
    with_state(|st| {
        st.refresh();
        st.names
    })
    .unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn pmid(name: *const c_char, out: *mut pmID, _ext: *mut pmdaExt) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        let tree = current_names();
        // SAFETY: tree was built by pmdaTreeCreate; arguments come from libpcp_pmda.
        unsafe { pmdaTreePMID(tree, name, out) }
    })
}

unsafe extern "C" fn name(id: pmID, out: *mut *mut *mut c_char, _ext: *mut pmdaExt) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        let tree = current_names();
        // SAFETY: as for pmid.
        unsafe { pmdaTreeName(tree, id, out) }
    })
}

unsafe extern "C" fn children(
    name: *const c_char,
    traverse: c_int,
    offspring: *mut *mut *mut c_char,
    status: *mut *mut c_int,
    _ext: *mut pmdaExt,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        let tree = current_names();
        // SAFETY: as for pmid.
        unsafe { pmdaTreeChildren(tree, name, traverse, offspring, status) }
    })
}

/// Builds libpcp_pmda's namespace tree from the catalogue (full PMIDs, domain included).
fn build_namespace(domain: u32, agent: &dyn Agent) -> *mut pmdaNameSpace {
    let mut tree: *mut pmdaNameSpace = std::ptr::null_mut();
    // SAFETY: pmdaTreeCreate allocates the tree; names are copied by pmdaTreeInsert.
    unsafe {
        if pmdaTreeCreate(&mut tree) < 0 {
            return std::ptr::null_mut();
        }
        for i in 0..agent.metric_count() {
            let m = agent.metric(i);
            let cname = CString::new(m.name).unwrap_or_default();
            pmdaTreeInsert(tree, super::pmid(domain, m.cluster, m.item), cname.as_ptr());
        }
        pmdaTreeRebuildHash(tree, agent.metric_count() as c_int);
    }
    tree
}

unsafe extern "C" fn label(
    ident: c_int,
    kind: c_int,
    sets: *mut *mut pmLabelSet,
    ext: *mut pmdaExt,
) -> c_int {
    guarded(PM_ERR_GENERIC, || {
        if kind == PM_LABEL_INSTANCES {
            with_state(State::refresh);
        }
        // SAFETY: as for fetch.
        unsafe { pmdaLabel(ident, kind, sets, ext) }
    })
}

unsafe extern "C" fn instance_labels(
    indom: pmInDom,
    inst: c_uint,
    sets: *mut *mut pmLabelSet,
) -> c_int {
    guarded(0, || {
        let json = with_state(|st| st.agent.instance_labels(indom & 0x3f_ffff, inst)).flatten();
        let Some(json) = json.and_then(|j| CString::new(j).ok()) else {
            return 0;
        };
        // SAFETY: "%s" with one NUL-terminated string argument.
        unsafe { pmdaAddLabels(sets, c"%s".as_ptr(), json.as_ptr()) }
    })
}

fn metric_entry(
    index: usize,
    m: &MetricDesc,
    pmid: pmID,
    indom: impl Fn(u32) -> pmInDom,
) -> pmdaMetric {
    pmdaMetric {
        m_user: index as *mut libc::c_void,
        m_desc: pmDesc {
            pmid,
            type_: m.ty.c_code(),
            indom: m.indom.map_or(PM_INDOM_NULL, indom),
            sem: m.sem.c_code(),
            units: m.units.0,
        },
    }
}

fn leak_cstring(s: &str) -> *mut c_char {
    CString::new(s).unwrap_or_default().into_raw()
}

/// Where the agent is started from: the parsed command line and the pmcd connection.
pub struct Connection {
    dispatch: &'static mut pmdaInterface,
    pub options: Options,
}

/// Parses the command line (PCP's standard PMDA options plus ours), opens the log and connects
/// to pmcd. Returns `Err(message)` for usage errors; the caller prints it and exits.
pub fn connect(args: &[String], default_domain: u32, helpfile: &str) -> Result<Connection, String> {
    let mut options = Options {
        domain: default_domain,
        ..Default::default()
    };
    let mut pcp_args: Vec<String> = vec![args.first().cloned().unwrap_or_else(|| "pmdallm".into())];
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let mut take = |flag: &str| -> Result<Option<String>, String> {
            if a == flag {
                it.next()
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| format!("option {flag} needs an argument"))
            } else if let Some(v) = a.strip_prefix(flag) {
                Ok(Some(v.to_string()))
            } else {
                Ok(None)
            }
        };
        if let Some(v) = take("-c")? {
            options.config = Some(v);
        } else if let Some(v) = take("-U")? {
            options.username = Some(v);
        } else {
            pcp_args.push(a.clone());
        }
    }
    let c_args: Vec<*mut c_char> = pcp_args.iter().map(|a| leak_cstring(a)).collect();
    let argv: &'static mut [*mut c_char] = Box::leak(
        c_args
            .into_iter()
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    // SAFETY: an all-zero pmdaInterface is what the C agents start from (static storage); it
    // never moves after pmdaDaemon because it is leaked.
    let dispatch: &'static mut pmdaInterface = Box::leak(Box::new(unsafe { std::mem::zeroed() }));
    let helpfile = leak_cstring(helpfile);
    let mut username: *mut c_char = std::ptr::null_mut();
    // SAFETY: plain calls with valid, leaked ('static) strings, in the order simple.c uses.
    unsafe {
        pmSetProgname(c"pmdallm".as_ptr());
        pmGetUsername(&mut username);
        pmdaDaemon(
            dispatch,
            PMDA_INTERFACE_7,
            c"llm".as_ptr(),
            default_domain as c_int,
            c"llm.log".as_ptr(),
            helpfile,
        );
        let mut errors: c_int = 0;
        loop {
            let c = pmdaGetOpt(
                (argv.len() - 1) as c_int,
                argv.as_ptr(),
                c"D:d:h:i:l:pu:6:".as_ptr(),
                dispatch,
                &mut errors,
            );
            if c == -1 {
                break;
            }
            errors += 1;
        }
        if errors > 0 {
            return Err("bad command line".into());
        }
        options.domain = dispatch.domain as u32;
        if options.username.is_none() && !username.is_null() {
            options.username = Some(CStr::from_ptr(username).to_string_lossy().into_owned());
        }
    }
    Ok(Connection { dispatch, options })
}

impl Connection {
    /// Opens the log file and connects to pmcd (pmcd allows 3 s for this handshake, so it
    /// happens before anything slow), then drops root privileges.
    pub fn open(&mut self) -> Result<(), String> {
        // SAFETY: dispatch was set up by pmdaDaemon and does not move.
        unsafe {
            pmdaOpenLog(self.dispatch);
            pmdaConnect(self.dispatch);
        }
        if self.dispatch.status < 0 {
            return Err(format!(
                "cannot connect to pmcd: {}",
                super::err_str(self.dispatch.status)
            ));
        }
        Ok(())
    }

    /// Switches to the configured user (normally `pcp`) once privileged set-up is done.
    pub fn drop_privileges(&self) -> Result<(), String> {
        if unsafe { libc::geteuid() } != 0 {
            return Ok(());
        }
        let Some(user) = self.options.username.as_deref() else {
            return Ok(());
        };
        let cuser = CString::new(user).map_err(|e| e.to_string())?;
        // SAFETY: valid C string.
        let rc = unsafe { pmSetProcessIdentity(cuser.as_ptr()) };
        if rc < 0 {
            return Err(format!("cannot run as user {user}: {}", super::err_str(rc)));
        }
        Ok(())
    }

    /// Builds the tables from the agent's metrics, installs the callbacks and serves pmcd
    /// until it closes the connection. Never returns.
    pub fn serve(self, agent: Box<dyn Agent>) -> ! {
        // pmdaInit takes local PMIDs and indom serials and stamps the domain into them.
        let metrics: Vec<pmdaMetric> = (0..agent.metric_count())
            .map(|i| {
                let m = agent.metric(i);
                metric_entry(i, &m, super::pmid(0, m.cluster, m.item), |s| s)
            })
            .collect();
        let serials: Vec<u32> = agent.indom_serials();
        let indoms: Vec<pmdaIndom> = serials
            .iter()
            .map(|s| pmdaIndom {
                it_indom: *s,
                it_numinst: 0,
                it_set: std::ptr::null_mut(),
            })
            .collect();
        let metrics: &'static mut [pmdaMetric] = Box::leak(metrics.into_boxed_slice());
        let indoms: &'static mut [pmdaIndom] = Box::leak(indoms.into_boxed_slice());
        let d = self.dispatch;
        // SAFETY: the tables are 'static and mutable as libpcp_pmda requires (it stamps the
        // domain into them); callbacks are registered before pmdaInit.
        unsafe {
            d.version.fetch = Some(fetch);
            d.version.instance = Some(instance);
            d.version.text = Some(text);
            d.version.label = Some(label);
            d.version.pmid = Some(pmid);
            d.version.name = Some(name);
            d.version.children = Some(children);
            pmdaSetFetchCallBack(d, Some(fetch_cb));
            pmdaSetLabelCallBack(d, Some(instance_labels));
            pmdaSetFlags(d, PMDA_EXT_FLAG_HASHED);
            pmdaInit(
                d,
                indoms.as_mut_ptr(),
                indoms.len() as c_int,
                metrics.as_mut_ptr(),
                metrics.len() as c_int,
            );
        }
        let indom_slots = serials
            .iter()
            .enumerate()
            .map(|(pos, s)| (*s, (pos, 0, Vec::new(), Vec::new())))
            .collect();
        let names = build_namespace(self.options.domain, agent.as_ref());
        let state = State {
            names,
            ext: d.version.ext,
            domain: self.options.domain,
            names_generation: agent.names_generation(),
            names_in_tree: agent.metric_count(),
            metric_table: Vec::new(),
            agent,
            indoms,
            indom_slots,
            help: HashMap::new(),
        };
        STATE.with(|s| *s.borrow_mut() = Some(state));
        with_state(State::refresh);
        log(
            "Info",
            &format!(
                "serving domain {} with {} metrics",
                self.options.domain,
                metrics.len()
            ),
        );
        main_loop(d)
    }
}

/// `pmdaMain`, but with a timeout so source updates are applied even when no client asks.
fn main_loop(d: &'static mut pmdaInterface) -> ! {
    // SAFETY: dispatch is connected; __pmdaInFd returns its input descriptor.
    let fd = unsafe { __pmdaInFd(d) };
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, 1000) };
        if rc < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
        if rc > 0 {
            // SAFETY: a PDU is waiting on the pmcd channel.
            if unsafe { __pmdaMainPDU(d) } < 0 {
                break;
            }
        } else {
            with_state(State::refresh);
        }
    }
    log("Info", "pmcd closed the connection; exiting");
    std::process::exit(0)
}
