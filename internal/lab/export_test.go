package lab

// RemoveStale exposes removeStale to the tests.
var RemoveStale = removeStale
