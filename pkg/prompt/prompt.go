// Package prompt asks the user questions on a terminal. Commands depend on the
// Prompter interface only; the survey-backed implementation is used on a real
// terminal and Fake in tests.
package prompt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// ErrCancelled is returned when the user interrupts a prompt (Ctrl-C or EOF).
var ErrCancelled = errors.New("cancelled by user")

// Prompter asks questions. Validators run at entry, so a bad answer is refused
// and asked again rather than failing the command.
type Prompter interface {
	// Input asks for a line of text. validate may be nil.
	Input(message, defaultValue string, validate func(string) error) (string, error)
	// Select asks to pick one of options and returns its index.
	Select(message string, options []string, defaultIndex int) (int, error)
	// Password asks for a secret without echoing it.
	Password(message string) (string, error)
	// Confirm asks a yes/no question.
	Confirm(message string, defaultValue bool) (bool, error)
}

// Survey is a Prompter that talks to a terminal through survey.
type Survey struct {
	in  terminal.FileReader
	out terminal.FileWriter
	err io.Writer
}

// NewSurvey returns a terminal Prompter on the given streams. Streams that are
// not files (tests, pipes) fall back to the process's own terminal streams;
// callers must only prompt when stdin and stdout are terminals.
func NewSurvey(in io.Reader, out, errOut io.Writer) *Survey {
	var stdin terminal.FileReader = os.Stdin
	if f, ok := in.(terminal.FileReader); ok {
		stdin = f
	}
	s := &Survey{in: ctrlDReader{stdin}, out: os.Stdout, err: errOut}
	if f, ok := out.(terminal.FileWriter); ok {
		s.out = f
	}
	return s
}

// ctrlD is what a terminal in raw mode sends for Ctrl-D (end of
// transmission).
const ctrlD = 0x04

// ctrlDReader ends the input at Ctrl-D. survey takes Ctrl-D as Enter, which
// would accept the default answer; a shell user expects it to end the
// input, so it reads as io.EOF, which ask turns into ErrCancelled.
type ctrlDReader struct {
	terminal.FileReader
}

func (r ctrlDReader) Read(p []byte) (int, error) {
	n, err := r.FileReader.Read(p)
	if i := bytes.IndexByte(p[:n], ctrlD); i >= 0 {
		return i, io.EOF
	}
	return n, err
}

func (s *Survey) ask(p survey.Prompt, answer any, opts ...survey.AskOpt) error {
	opts = append(opts, survey.WithStdio(s.in, s.out, s.err))
	err := survey.AskOne(p, answer, opts...)
	if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
		// survey leaves the cursor after the question: end the line, so
		// the error and the shell's prompt start on a line of their own.
		fmt.Fprintln(s.out)
		return ErrCancelled
	}
	return err
}

// Input implements Prompter.
func (s *Survey) Input(message, defaultValue string, validate func(string) error) (string, error) {
	var answer string
	var opts []survey.AskOpt
	if validate != nil {
		opts = append(opts, survey.WithValidator(func(v any) error {
			str, _ := v.(string)
			return validate(strings.TrimSpace(str))
		}))
	}
	err := s.ask(&survey.Input{Message: message, Default: defaultValue}, &answer, opts...)
	return strings.TrimSpace(answer), err
}

// Select implements Prompter. Typing filters the options by case-insensitive
// substring.
func (s *Survey) Select(message string, options []string, defaultIndex int) (int, error) {
	q := &survey.Select{Message: message, Options: options, PageSize: 12}
	if defaultIndex >= 0 && defaultIndex < len(options) {
		q.Default = options[defaultIndex]
	}
	var index int
	err := s.ask(q, &index)
	return index, err
}

// Password implements Prompter. Empty answers are refused at entry.
func (s *Survey) Password(message string) (string, error) {
	var answer string
	err := s.ask(&survey.Password{Message: message}, &answer, survey.WithValidator(survey.Required))
	return strings.TrimSpace(answer), err
}

// Confirm implements Prompter.
func (s *Survey) Confirm(message string, defaultValue bool) (bool, error) {
	var answer bool
	err := s.ask(&survey.Confirm{Message: message, Default: defaultValue}, &answer)
	return answer, err
}

// Fake is a Prompter for tests. Queue answers per message with Answer; an
// unexpected question fails with an error naming it.
type Fake struct {
	answers map[string][]string
	asked   []string
}

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{answers: map[string][]string{}} }

// Answer queues an answer for the prompt whose message starts with prefix.
// For Select, the answer is the option text; for Confirm, "y" or "n".
func (f *Fake) Answer(prefix, answer string) *Fake {
	f.answers[prefix] = append(f.answers[prefix], answer)
	return f
}

// Asked returns the messages asked so far, in order.
func (f *Fake) Asked() []string { return f.asked }

// Unused returns the prompt prefixes that still have queued answers.
func (f *Fake) Unused() []string {
	var out []string
	for k, v := range f.answers {
		if len(v) > 0 {
			out = append(out, k)
		}
	}
	return out
}

func (f *Fake) next(message string) (string, error) {
	f.asked = append(f.asked, message)
	best := ""
	for prefix, queue := range f.answers {
		if strings.HasPrefix(message, prefix) && len(queue) > 0 && len(prefix) >= len(best) {
			best = prefix
		}
	}
	queue, ok := f.answers[best]
	if !ok || len(queue) == 0 {
		return "", fmt.Errorf("prompt.Fake: no answer queued for %q", message)
	}
	f.answers[best] = queue[1:]
	return queue[0], nil
}

// Input implements Prompter. A queued answer that fails validation is an error,
// since a real terminal would ask again forever.
func (f *Fake) Input(message, defaultValue string, validate func(string) error) (string, error) {
	a, err := f.next(message)
	if err != nil {
		return "", err
	}
	if a == "" {
		a = defaultValue
	}
	if validate != nil {
		if err := validate(a); err != nil {
			return "", fmt.Errorf("prompt.Fake: answer %q to %q refused: %w", a, message, err)
		}
	}
	return a, nil
}

// Select implements Prompter.
func (f *Fake) Select(message string, options []string, defaultIndex int) (int, error) {
	a, err := f.next(message)
	if err != nil {
		return 0, err
	}
	for i, o := range options {
		if o == a {
			return i, nil
		}
	}
	return 0, fmt.Errorf("prompt.Fake: %q is not an option of %q", a, message)
}

// Password implements Prompter.
func (f *Fake) Password(message string) (string, error) { return f.next(message) }

// Confirm implements Prompter.
func (f *Fake) Confirm(message string, defaultValue bool) (bool, error) {
	a, err := f.next(message)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(a) {
	case "":
		return defaultValue, nil
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
