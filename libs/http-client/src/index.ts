export { HttpExchange, HttpNoAnswer, MAX_ANSWER_BYTES, type HttpAnswer, type HttpExchangeOptions } from './http-exchange';
