package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/kinds"
	"github.com/charter-dev/charter/report"
)

// readAhead is how many sources per core may be read and decided before
// the ones ahead of them were emitted: enough to keep every core busy
// behind a slow large file, few enough that memory does not grow with the
// number of sources.
const readAhead = 4

// forEachDoc reads, parses and decides the sources on every core, and
// hands the outcome of each document to emit in the order of the sources
// and of the documents within each, as soon as it and all before it are
// decided. Only a few sources per core are in memory at once, however many
// there are (one source is at most manifest.MaxFileSize). The errors of
// decide are joined and returned once every source was read, the other
// documents still emitted; an error of emit stops the reading. done, when
// set, is called after the outcomes of each source were emitted.
func forEachDoc[T any](ctx context.Context, sources []manifest.Source, decide func(context.Context, manifest.Doc) (T, error), emit func(T) error, done func()) (charter.ErrorList, error) {
	type batch struct {
		outs  []T
		bad   charter.ErrorList
		err   error
		ready chan struct{}
	}
	type job struct {
		source *manifest.Source
		b      *batch
	}
	workers := runtime.GOMAXPROCS(0)
	inOrder := make(chan *batch, readAhead*workers)
	work := make(chan job)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				docs, bad := j.source.Docs()
				j.b.bad = bad
				for _, d := range docs {
					out, err := decide(ctx, d)
					if err != nil {
						j.b.err = errors.Join(j.b.err, fmt.Errorf("%s#%d: %w", d.File, d.Index, err))
						continue
					}
					j.b.outs = append(j.b.outs, out)
				}
				close(j.b.ready)
			}
		}()
	}
	go func() {
		defer close(work)
		defer close(inOrder)
		for i := range sources {
			b := &batch{ready: make(chan struct{})}
			select {
			case inOrder <- b:
			case <-stop:
				return
			}
			select {
			case work <- job{&sources[i], b}:
			case <-stop:
				return
			}
		}
	}()
	var bad charter.ErrorList
	var errs []error
	for b := range inOrder {
		<-b.ready
		bad, errs = append(bad, b.bad...), append(errs, b.err)
		var err error
		for _, out := range b.outs {
			if err = emit(out); err != nil {
				break
			}
		}
		if err != nil {
			errs = append(errs, err)
			close(stop)
			break
		}
		if done != nil {
			done()
		}
	}
	wg.Wait()
	return bad, errors.Join(errs...)
}

// decideOne decides one manifest, objects of namespaced kinds without a
// namespace in namespace.
func decideOne(ctx context.Context, e *engine.Engine, ov *engine.Overrides, d manifest.Doc, namespace string) (report.Result, error) {
	d.Object = kinds.DefaultNamespace(d.Object, namespace, e.Bundle().Info.DeclaredKinds()...)
	dec, applied, err := e.DecideApplied(ctx, d.Object, ov)
	if err != nil {
		return report.Result{}, err
	}
	r := report.Result{File: d.File, Index: d.Index, Line: d.Line, APIVersion: d.APIVersion(), Kind: d.Kind(), Namespace: d.Namespace(), Name: d.Name(), Allowed: dec.Allowed, ArticlesApplied: report.Applied(applied)}
	var fields *manifest.Fields
	for _, f := range dec.All() {
		v := report.Violation{Article: f.Article, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path}
		if fields == nil {
			fl := d.Fields() // parsed once, only for objects with findings
			fields = &fl
		}
		v.Line, v.Column = fields.Pos(f.Path)
		if f.Override != "" {
			// A lifted denial is reported as the webhook answers it: a warning naming the override.
			v.Action, v.Message, v.Override = "warn", "allowed by override "+f.Override+": "+f.Message, f.Override
		}
		r.Violations = append(r.Violations, v)
	}
	return r, nil
}

// policyOf describes the engine's bundle for reports.
func policyOf(e *engine.Engine) report.Policy {
	info := e.Bundle().Info
	p := report.Policy{Name: info.Name, Version: info.Version, Revision: e.Revision(), Articles: map[string]report.Article{}}
	for id, a := range info.Articles {
		p.Articles[id] = report.Article{Title: a.Title, Description: a.Description, Severity: a.Severity, Action: a.Action}
	}
	return p
}
