import fc from 'fast-check';

// Under mutation a failing property is a killed mutant: the first counterexample is enough, shrinking it is wasted
// time.
fc.configureGlobal({ endOnFailure: true });
