// Every workflow the worker registers; the bundler starts here.
export { probe } from './probe';
