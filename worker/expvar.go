package worker

import (
	"expvar"
	"fmt"
	"sync"
	"sync/atomic"
)

// expvarPagesOf is the package's one registry of expvar pages, shared by
// System (SystemOptions.Publish) and HealthMonitor.Publish, so that
// checking a name and publishing it is one step for both (expvar.Publish
// panics on a taken name). expvar cannot take a name back: a page, once
// published, stays. A System's page is handed to the next System that
// asks for its name after the last one shut down (free); a monitor's name
// stays taken (blank); either shows null while nobody is behind it.
var expvarPagesOf = expvarPages{pages: map[string]*expvarPage{}}

type expvarPages struct {
	mu    sync.Mutex
	pages map[string]*expvarPage
}

// expvarPage is one published name and what it shows now.
type expvarPage struct {
	name    string
	taken   bool       // someone holds it; under expvarPages.mu
	pending func() any // what open will show; under expvarPages.mu
	show    atomic.Pointer[func() any]
}

// claim reserves name. It fails with ErrNameTaken when the name is held,
// or when something outside this registry published it. The page shows
// null until open.
func (ps *expvarPages) claim(name string, show func() any) (*expvarPage, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pg := ps.pages[name]
	switch {
	case pg != nil && pg.taken:
		return nil, fmt.Errorf("%w: expvar %q", ErrNameTaken, name)
	case pg == nil && expvar.Get(name) != nil:
		return nil, fmt.Errorf("%w: expvar %q", ErrNameTaken, name)
	case pg == nil:
		pg = &expvarPage{name: name}
		expvar.Publish(name, expvar.Func(func() any {
			if f := pg.show.Load(); f != nil {
				return (*f)()
			}
			return nil
		}))
		ps.pages[name] = pg
	}
	pg.taken, pg.pending = true, show
	return pg, nil
}

// open makes a claimed page show what claim was given.
func (ps *expvarPages) open(pg *expvarPage) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	f := pg.pending
	pg.show.Store(&f)
}

// blank shows null on the page; the name stays taken.
func (ps *expvarPages) blank(pg *expvarPage) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pg.show.Store(nil)
	pg.pending = nil
}

// free shows null on the page and gives its name back.
func (ps *expvarPages) free(pg *expvarPage) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pg.show.Store(nil)
	pg.taken, pg.pending = false, nil
}
