package tail

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Position is how far an input has read: which file (device and inode) and the offset in it.
type Position struct {
	Dev    uint64 `json:"dev"`
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"`
}

// State keeps the positions of all inputs in one JSON file, written atomically on every change.
type State struct {
	path string
	mu   sync.Mutex
	pos  map[string]Position
}

// OpenState reads the state file (a missing one is empty).
func OpenState(path string) (*State, error) {
	s := &State{path: path, pos: map[string]Position{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("read file-input state %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &s.pos); err != nil {
		return nil, fmt.Errorf("file-input state %s is damaged (%v): move it away to read every file from its start", path, err)
	}
	return s, nil
}

// Get returns an input's saved position.
func (s *State) Get(name string) (Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pos[name]
	return p, ok
}

// Set saves an input's position.
func (s *State) Set(name string, p Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos[name] = p
	b, err := json.MarshalIndent(s.pos, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save file-input state: %w", err)
	}
	return os.Rename(tmp, s.path)
}
