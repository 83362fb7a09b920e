package loadtest

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// Limits that keep a Tally's size independent of the number of requests.
const (
	// MaxAnswerBytes is how much of a response body identifies an answer; longer bodies are cut.
	MaxAnswerBytes = 256
	// MaxAnswers is how many distinct answers are counted separately; the rest share OtherAnswers.
	MaxAnswers = 64
)

// OtherAnswers names the bucket that counts answers beyond the first MaxAnswers distinct ones.
const OtherAnswers = "(other answers)"

// Tally is what a load test observed: a count per distinct answer, a count per kind of error and
// a latency histogram. Its size is fixed, however many requests are sent.
type Tally struct {
	// Answers counts successful (2xx) responses per distinct body, in first-seen order.
	Answers []AnswerCount
	// Errors counts failed requests per kind (and HTTP status for kind "status").
	Errors []ErrorCount
	// Canceled counts requests that were in flight when the run was interrupted; they are neither
	// answers nor errors.
	Canceled int
	// Latency holds the time from sending each request to reading its whole response, for every
	// request that got an HTTP response (any status).
	Latency Histogram
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Interrupted is true when the run was stopped (Ctrl-C) before it finished.
	Interrupted bool

	answerIdx map[string]int
	errorIdx  map[ErrorKey]int
}

// AnswerCount is one distinct answer and how often it came back.
type AnswerCount struct {
	// Answer is the body as text: a JSON string body is decoded ("New Model A"), anything else is
	// the body with surrounding white space removed, cut at MaxAnswerBytes.
	Answer string `json:"answer"`
	// Raw is the body as received (trimmed, cut); it is what --print shows, like curl would.
	Raw   string `json:"raw"`
	Count int    `json:"count"`
}

// ErrorKey identifies a kind of failure.
type ErrorKey struct {
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// Status is the HTTP status for KindStatus, otherwise 0.
	Status int `json:"status,omitempty"`
}

// ErrorCount is one kind of failure, how often it happened and the first message seen.
type ErrorCount struct {
	ErrorKey
	Count   int    `json:"count"`
	Example string `json:"example,omitempty"`
}

// Answered is the number of successful responses.
func (t *Tally) Answered() int {
	n := 0
	for _, a := range t.Answers {
		n += a.Count
	}
	return n
}

// Failed is the number of failed requests.
func (t *Tally) Failed() int {
	n := 0
	for _, e := range t.Errors {
		n += e.Count
	}
	return n
}

// Completed is the number of requests that ended in an answer or an error.
func (t *Tally) Completed() int { return t.Answered() + t.Failed() }

// Rate is the achieved rate: completed requests per second of wall time.
func (t *Tally) Rate() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Completed()) / t.Elapsed.Seconds()
}

// Count returns how often answer (decoded text) came back.
func (t *Tally) Count(answer string) int {
	for _, a := range t.Answers {
		if a.Answer == answer {
			return a.Count
		}
	}
	return 0
}

// addAnswer counts body (already trimmed and cut) as one answer. Looking up an existing answer
// does not allocate.
func (t *Tally) addAnswer(body []byte) {
	if i, ok := t.answerIdx[string(body)]; ok {
		t.Answers[i].Count++
		return
	}
	raw := string(body)
	t.addAnswerCount(AnswerCount{Answer: decodeAnswer(raw), Raw: raw, Count: 1})
}

// addAnswerCount adds a to its answer's count; a new answer beyond the first MaxAnswers goes to
// OtherAnswers instead.
func (t *Tally) addAnswerCount(a AnswerCount) {
	if t.answerIdx == nil {
		t.answerIdx = make(map[string]int)
	}
	if i, ok := t.answerIdx[a.Raw]; ok {
		t.Answers[i].Count += a.Count
		return
	}
	distinct := len(t.Answers)
	if _, ok := t.answerIdx[OtherAnswers]; ok {
		distinct--
	}
	if a.Raw != OtherAnswers && distinct >= MaxAnswers {
		t.addAnswerCount(AnswerCount{Answer: OtherAnswers, Raw: OtherAnswers, Count: a.Count})
		return
	}
	t.answerIdx[a.Raw] = len(t.Answers)
	t.Answers = append(t.Answers, a)
}

// addError counts one failure of kind k; example is kept for the first one.
func (t *Tally) addError(k ErrorKey, example string) {
	t.addErrorCount(ErrorCount{ErrorKey: k, Count: 1, Example: example})
}

func (t *Tally) addErrorCount(e ErrorCount) {
	if t.errorIdx == nil {
		t.errorIdx = make(map[ErrorKey]int)
	}
	if i, ok := t.errorIdx[e.ErrorKey]; ok {
		t.Errors[i].Count += e.Count
		return
	}
	t.errorIdx[e.ErrorKey] = len(t.Errors)
	t.Errors = append(t.Errors, e)
}

// Merge adds o's counts to t (Elapsed and Interrupted are left to the caller).
func (t *Tally) Merge(o *Tally) {
	for _, a := range o.Answers {
		t.addAnswerCount(a)
	}
	for _, e := range o.Errors {
		t.addErrorCount(e)
	}
	t.Canceled += o.Canceled
	t.Latency.Merge(&o.Latency)
}

// Sorted returns the answers and errors ordered by count, largest first (ties by name), for
// stable reports.
func (t *Tally) Sorted() ([]AnswerCount, []ErrorCount) {
	as := append([]AnswerCount(nil), t.Answers...)
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].Count != as[j].Count {
			return as[i].Count > as[j].Count
		}
		return as[i].Answer < as[j].Answer
	})
	es := append([]ErrorCount(nil), t.Errors...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Count != es[j].Count {
			return es[i].Count > es[j].Count
		}
		return es[i].Label() < es[j].Label()
	})
	return as, es
}

// Label is how a report names the error kind, e.g. "status 500" or "timeout".
func (k ErrorKey) Label() string {
	if k.Kind == KindStatus {
		return KindStatus + " " + strconv.Itoa(k.Status)
	}
	return k.Kind
}

// decodeAnswer turns a JSON string body into its text; other bodies are returned unchanged.
func decodeAnswer(raw string) string {
	if len(raw) < 2 || raw[0] != '"' {
		return raw
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return raw
	}
	return s
}
