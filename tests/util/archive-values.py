#!/usr/bin/env python3
"""Print every value of every guidellm.* metric in a PCP archive, one per line, exactly:
   EPOCH_SECONDS<TAB>METRIC<TAB>INSTANCE_NAME<TAB>VALUE   (doubles as Python repr, exact)
   and a line "EPOCH_SECONDS<TAB><mark>" for each <mark> record.
EPOCH_SECONDS has 6 decimals where the PMAPI's pmResult timestamp is a timeval (PCP 6) and 9
where it is a timespec (PCP 7), so nothing the archive holds is rounded away.
Used by tests/importer_*.rs (pmdumplog prints doubles with 15-16 digits only)."""
import sys
from pcp import pmapi
import cpmapi as c_api

archive = sys.argv[1]
ctx = pmapi.pmContext(c_api.PM_CONTEXT_ARCHIVE, archive)
names = []
ctx.pmTraversePMNS("guidellm", names.append)
pmids = ctx.pmLookupName(names)
descs = ctx.pmLookupDescs(pmids)
info = {}
for n, p, d in zip(names, pmids, descs):
    info[p] = (n, d)
out = sys.stdout


def stamp(ts):
    """The text of a timeval or a timespec, with all of its digits."""
    if hasattr(ts, "tv_nsec"):
        return "%d.%09d" % (ts.tv_sec, ts.tv_nsec)
    return "%d.%06d" % (ts.tv_sec, ts.tv_usec)


while True:
    try:
        res = ctx.pmFetchArchive()
    except pmapi.pmErr as e:
        if e.args[0] == c_api.PM_ERR_EOL:
            break
        raise
    t = stamp(res.contents.timestamp)
    n = res.contents.numpmid
    if n == 0:
        out.write("%s\t<mark>\n" % t)
    for i in range(n):
        vs = res.contents.get_vset(i)
        pmid = res.contents.get_pmid(i)
        if pmid not in info:
            continue
        name, desc = info[pmid]
        for j in range(res.contents.get_numval(i)):
            inst = res.contents.get_inst(i, j)
            iname = ctx.pmNameInDomArchive(desc, inst)
            atom = ctx.pmExtractValue(res.contents.get_valfmt(i), res.contents.get_vlist(i, j),
                                      desc.contents.type, desc.contents.type)
            ty = desc.contents.type
            if ty == c_api.PM_TYPE_DOUBLE:
                v = repr(atom.d)
            elif ty == c_api.PM_TYPE_U64:
                v = str(atom.ull)
            elif ty == c_api.PM_TYPE_STRING:
                v = atom.cp.decode() if isinstance(atom.cp, bytes) else str(atom.cp)
            else:
                v = str(atom.l)
            out.write("%s\t%s\t%s\t%s\n" % (t, name, iname, v))
    ctx.pmFreeResult(res)
