/* café: Latin-1, not UTF-8 */
int main(void) { return 0; }
