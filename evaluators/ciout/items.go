package ciout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wmss/wmss"
	"github.com/wmss/wmss/evaluators/evalrun"
)

// WriteItems writes items to dir/items.jsonl, one JSON object per line in
// run order (evalrun.Item: benchmark, id, sample, prompt, output, gold,
// extracted, verdict, correct, strict, flexible, error, completion_tokens,
// finish_reason, time_ms).
func WriteItems(dir string, items []evalrun.Item) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // prompts and programs keep <, > and & readable
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(dir, ItemsFile), buf.Bytes())
}

// ReadItems reads an items.jsonl written by WriteItems. A bad line is an
// EINVALID error naming path:line; a missing file is ENOTFOUND.
func ReadItems(path string) ([]evalrun.Item, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, wmss.Errorf(wmss.ENOTFOUND, "items file %s not found", path)
		}
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20) // one line holds a whole completion
	var items []evalrun.Item
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var it evalrun.Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, wmss.FieldErrorf(path+":"+strconv.Itoa(line), "%v", err)
		}
		if it.Benchmark == "" || it.ID == "" || it.Verdict == "" {
			return nil, wmss.FieldErrorf(path+":"+strconv.Itoa(line), "record lacks benchmark, id or verdict")
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, wmss.FieldErrorf(path, "%v", err)
	}
	return items, nil
}
